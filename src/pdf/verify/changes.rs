//! What changed after a signature: every object of the final document is compared with the
//! signed revision, and each difference must be explained by an allowed rule (new signatures
//! and their fields, DSS, document information, form filling where DocMDP permits); anything
//! else — page content, resources, fonts, annotations, the catalog — is disallowed. This is
//! the policy-of-rules design of pyHanko's difference analysis, reduced to what commune
//! documents need.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::report::Change;

/// What a certification signature (DocMDP) permits after it; `None` when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocMdp {
    /// P=1: no changes at all.
    NoChanges,
    /// P=2: form filling and signing.
    FormFilling,
    /// P=3: also annotations.
    Annotations,
}

/// Catalog entries a later signer legitimately adds or updates: the form, validation data,
/// extension and version declarations (PAdES/PDF 2.0 tools add them) and XMP metadata.
const CATALOG_KEYS_SIGNERS_MAY_TOUCH: &[&[u8]] =
    &[b"AcroForm", b"DSS", b"Extensions", b"Metadata", b"Version"];

pub fn analyse(signed: &Document, latest: &Document, mdp: Option<DocMdp>) -> Vec<Change> {
    let ctx = Context::new(signed, latest);
    let mut changes = Vec::new();
    for (&id, after) in &latest.objects {
        let before = signed.objects.get(&id);
        if before.is_some_and(|b| same(b, after)) || is_structure(after) {
            continue;
        }
        let (allowed, rule) = match before {
            None => ctx.judge_new(id, after),
            Some(before) => ctx.judge_changed(id, before, after, mdp),
        };
        let (allowed, rule) = match mdp {
            Some(DocMdp::NoChanges) => (
                false,
                "the certification signature (DocMDP P=1) forbids any change",
            ),
            _ => (allowed, rule),
        };
        changes.push(Change {
            object: format!("{} {} R", id.0, id.1),
            what: format!(
                "{} {}",
                describe(after),
                if before.is_some() { "changed" } else { "added" }
            ),
            allowed,
            rule,
        });
    }
    for &id in signed
        .objects
        .keys()
        .filter(|id| !latest.objects.contains_key(id))
    {
        changes.push(Change {
            object: format!("{} {} R", id.0, id.1),
            what: "object removed".into(),
            allowed: false,
            rule: "signed objects must not disappear",
        });
    }
    changes
}

/// Cross-reference and object streams are containers, judged through the objects they hold.
fn is_structure(object: &Object) -> bool {
    type_name(object).is_some_and(|t| t == b"XRef" || t == b"ObjStm")
}

fn dict(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn type_name(object: &Object) -> Option<&[u8]> {
    dict(object)?.get(b"Type").and_then(Object::as_name).ok()
}

fn name<'a>(d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get(key).and_then(Object::as_name).ok()
}

fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        // Stream equality ignores where the data sits in the file.
        (Object::Stream(x), Object::Stream(y)) => x.dict == y.dict && x.content == y.content,
        _ => a == b,
    }
}

fn describe(object: &Object) -> String {
    let Some(d) = dict(object) else {
        return match object {
            Object::Array(_) => "array".into(),
            _ => "value".into(),
        };
    };
    let ty = name(d, b"Type").or_else(|| name(d, b"FT").map(|_| &b"Field"[..]));
    let sub = name(d, b"Subtype");
    match (ty, sub) {
        (Some(t), Some(s)) => format!(
            "{} /{}",
            String::from_utf8_lossy(t),
            String::from_utf8_lossy(s)
        ),
        (Some(t), None) => String::from_utf8_lossy(t).into_owned(),
        (None, Some(s)) => String::from_utf8_lossy(s).into_owned(),
        (None, None) if matches!(object, Object::Stream(_)) => "stream".into(),
        _ => "dictionary".into(),
    }
}

struct Context<'a> {
    signed: &'a Document,
    latest: &'a Document,
    /// Objects reachable from signature fields and DSS of the final document that did not
    /// exist or were unsigned fields in the signed revision.
    signature_objects: BTreeSet<ObjectId>,
    /// Objects referenced by objects that already existed when the document was signed.
    used_by_signed: BTreeSet<ObjectId>,
    catalog_id: Option<ObjectId>,
    info_id: Option<ObjectId>,
}

impl<'a> Context<'a> {
    fn new(signed: &'a Document, latest: &'a Document) -> Self {
        let catalog_id = latest
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .ok();
        let info_id = latest
            .trailer
            .get(b"Info")
            .and_then(Object::as_reference)
            .ok();
        let mut ctx = Context {
            signed,
            latest,
            signature_objects: BTreeSet::new(),
            used_by_signed: BTreeSet::new(),
            catalog_id,
            info_id,
        };
        // Everything a new signature brings along: its field/widget, its value (the signature
        // dictionary), its appearance and that appearance's resources; and the DSS.
        let mut roots = Vec::new();
        for (&id, object) in &latest.objects {
            if ctx.is_signature_field(object)
                && !signed.objects.get(&id).is_some_and(|b| same(b, object))
            {
                roots.push(id);
            }
        }
        if let Some(catalog) = catalog_id.and_then(|id| latest.get_dictionary(id).ok()) {
            if let Ok(Object::Reference(dss)) = catalog.get(b"DSS") {
                roots.push(*dss);
            }
            if let Ok(Object::Dictionary(dss)) = catalog.get(b"DSS") {
                collect_refs(&Object::Dictionary(dss.clone()), &mut roots);
            }
        }
        let mut seen = BTreeSet::new();
        while let Some(id) = roots.pop() {
            // Objects of the signed revision stay protected even when reachable from here.
            if signed.objects.contains_key(&id) && !ctx.is_signature_field_id(id) {
                continue;
            }
            if !seen.insert(id) {
                continue;
            }
            if let Some(object) = latest.objects.get(&id) {
                // A widget's /P points back to its page: not part of the signature's objects.
                let mut refs = Vec::new();
                collect_refs(object, &mut refs);
                if let Some(d) = dict(object) {
                    if let Ok(Object::Reference(page)) = d.get(b"P") {
                        refs.retain(|r| r != page);
                    }
                    if let Ok(Object::Reference(parent)) = d.get(b"Parent") {
                        refs.retain(|r| r != parent);
                    }
                }
                roots.extend(refs);
            }
        }
        ctx.signature_objects = seen;
        let mut used = Vec::new();
        for (id, object) in &latest.objects {
            if signed.objects.contains_key(id) {
                collect_refs(object, &mut used);
            }
        }
        ctx.used_by_signed = used.into_iter().collect();
        ctx
    }

    fn is_signature_field_id(&self, id: ObjectId) -> bool {
        self.latest
            .objects
            .get(&id)
            .is_some_and(|o| self.is_signature_field(o))
    }

    /// A signature field, or a widget whose parent is one.
    fn is_signature_field(&self, object: &Object) -> bool {
        let Some(d) = dict(object) else { return false };
        if name(d, b"FT") == Some(b"Sig") {
            return true;
        }
        matches!(d.get(b"Parent"), Ok(Object::Reference(parent))
            if self.latest.get_dictionary(*parent).ok().and_then(|p| name(p, b"FT")) == Some(b"Sig"))
    }

    fn judge_new(&self, id: ObjectId, object: &Object) -> (bool, &'static str) {
        if self.signature_objects.contains(&id) {
            return (
                true,
                "a later signature, its field and appearance, or validation data (DSS)",
            );
        }
        match type_name(object) {
            Some(b"Sig" | b"DocTimeStamp") => return (true, "a later signature"),
            Some(b"Metadata") => return (true, "XMP metadata updated"),
            _ => {}
        }
        if self.used_by_signed.contains(&id) {
            (false, "new content used by the signed document")
        } else {
            (true, "an object nothing in the signed document uses")
        }
    }

    fn judge_changed(
        &self,
        id: ObjectId,
        before: &Object,
        after: &Object,
        mdp: Option<DocMdp>,
    ) -> (bool, &'static str) {
        if Some(id) == self.catalog_id {
            return if same_except(before, after, CATALOG_KEYS_SIGNERS_MAY_TOUCH)
                && self.acroform_ok(before, after)
            {
                (true, "catalog: signature form or DSS added")
            } else {
                (false, "catalog changed beyond the form and DSS")
            };
        }
        if Some(id) == self.info_id {
            return (true, "document information (metadata) updated");
        }
        if type_name(after) == Some(b"Metadata") {
            return (true, "XMP metadata updated");
        }
        if self.signature_objects.contains(&id) && self.is_signature_field(after) {
            // Signing a field that was empty when the earlier signature was made.
            let was_unsigned = dict(before).is_some_and(|d| !d.has(b"V"));
            return if was_unsigned
                && same_except(before, after, &[b"V", b"AP", b"F", b"Rect", b"MK"])
            {
                (true, "an empty signature field was signed")
            } else {
                (false, "an existing signature was replaced")
            };
        }
        if let (Some(b), Some(a)) = (dict(before), dict(after)) {
            if type_name(after) == Some(b"Page") {
                return if same_except(before, after, &[b"Annots"])
                    && self.array_grew_with_signatures(
                        b.get(b"Annots").ok(),
                        a.get(b"Annots").ok(),
                        mdp,
                    ) {
                    (true, "page: signature widget added to its annotations")
                } else {
                    (false, "page content, resources or annotations changed")
                };
            }
            if a.has(b"FT") && same_except(before, after, &[b"V", b"AP", b"AS"]) {
                return match mdp {
                    None | Some(DocMdp::FormFilling | DocMdp::Annotations) => {
                        (true, "form field filled in")
                    }
                    Some(DocMdp::NoChanges) => (false, "form filling forbidden by DocMDP"),
                };
            }
            if b.has(b"Fields") || a.has(b"SigFlags") {
                return if self.acroform_dict_ok(b, a) {
                    (true, "form: signature field added")
                } else {
                    (false, "form changed beyond added signature fields")
                };
            }
        }
        if let (Object::Array(_), Object::Array(_)) = (before, after) {
            return if self.array_grew_with_signatures(Some(before), Some(after), mdp) {
                (true, "list extended with signature fields")
            } else {
                (false, "list of fields or annotations changed")
            };
        }
        (false, disallowed_rule(after))
    }

    fn acroform_ok(&self, before: &Object, after: &Object) -> bool {
        let (Some(b), Some(a)) = (dict(before), dict(after)) else {
            return false;
        };
        match (b.get(b"AcroForm"), a.get(b"AcroForm")) {
            (Ok(Object::Dictionary(fb)), Ok(Object::Dictionary(fa))) => {
                self.acroform_dict_ok(fb, fa)
            }
            (Err(_), Ok(Object::Dictionary(fa))) => self.acroform_dict_ok(&Dictionary::new(), fa),
            // Moved out of the catalog into its own object: judge that object's content.
            (Ok(Object::Dictionary(fb)), Ok(Object::Reference(id))) => self
                .latest
                .get_dictionary(*id)
                .is_ok_and(|fa| self.acroform_dict_ok(fb, fa)),
            // An indirect form is judged as its own object.
            (x, y) => match (x.ok(), y.ok()) {
                (None, Some(Object::Reference(_))) => true,
                (x, y) => x == y,
            },
        }
    }

    fn acroform_dict_ok(&self, before: &Dictionary, after: &Dictionary) -> bool {
        let keys_ok = after.iter().all(|(k, v)| {
            matches!(k.as_slice(), b"Fields" | b"SigFlags" | b"DR" | b"DA")
                || before.get(k).ok() == Some(v)
        });
        keys_ok
            && self.array_grew_with_signatures(
                before.get(b"Fields").ok(),
                after.get(b"Fields").ok(),
                None,
            )
    }

    /// `after` holds every element of `before`, and each addition is a signature field (or,
    /// under DocMDP P=3, any annotation).
    fn array_grew_with_signatures(
        &self,
        before: Option<&Object>,
        after: Option<&Object>,
        mdp: Option<DocMdp>,
    ) -> bool {
        let items = |o: Option<&Object>, doc: &Document| -> Option<Vec<Object>> {
            match o {
                None => Some(Vec::new()),
                Some(o) => doc
                    .dereference(o)
                    .ok()
                    .and_then(|(_, o)| o.as_array().ok().cloned()),
            }
        };
        let (Some(before), Some(after)) = (items(before, self.signed), items(after, self.latest))
        else {
            return false;
        };
        before.iter().all(|b| after.contains(b))
            && after
                .iter()
                .filter(|a| !before.contains(a))
                .all(|added| match added {
                    Object::Reference(id) => {
                        self.is_signature_field_id(*id)
                            || (mdp == Some(DocMdp::Annotations)
                                && self
                                    .latest
                                    .get_dictionary(*id)
                                    .ok()
                                    .and_then(|d| name(d, b"Type"))
                                    == Some(b"Annot"))
                    }
                    _ => false,
                })
    }
}

/// Equal apart from `keys`.
fn same_except(before: &Object, after: &Object, keys: &[&[u8]]) -> bool {
    let (Some(b), Some(a)) = (dict(before), dict(after)) else {
        return false;
    };
    let relevant = |d: &Dictionary| -> Vec<(Vec<u8>, Object)> {
        let mut v: Vec<_> = d
            .iter()
            .filter(|(k, _)| !keys.contains(&k.as_slice()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v
    };
    let content_same = match (before, after) {
        (Object::Stream(x), Object::Stream(y)) => x.content == y.content,
        _ => true,
    };
    content_same && relevant(b) == relevant(a)
}

fn disallowed_rule(object: &Object) -> &'static str {
    let d = dict(object);
    match (
        d.and_then(|d| name(d, b"Type")),
        d.and_then(|d| name(d, b"Subtype")),
    ) {
        (Some(b"Font" | b"FontDescriptor"), _) => "fonts of the signed document changed",
        (Some(b"XObject"), _) | (_, Some(b"Form" | b"Image")) => {
            "images or form XObjects of the signed document changed"
        }
        (Some(b"Annot"), _) => "annotations of the signed document changed",
        (Some(b"Pages"), _) => "the page tree changed",
        _ if matches!(object, Object::Stream(_)) => {
            "a content stream of the signed document changed"
        }
        _ => "an object of the signed document changed",
    }
}

fn collect_refs(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Object::Dictionary(d) => d.iter().for_each(|(_, v)| collect_refs(v, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, v)| collect_refs(v, out)),
        _ => {}
    }
}
