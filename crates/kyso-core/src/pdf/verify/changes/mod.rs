//! What changed after a signature, judged the way pyHanko's difference analysis does: every
//! later revision is compared with the signed one, and every object it writes must be
//! explained by a rule, keyed by how the object is reached (an object of the signed revision
//! that is overwritten must be cleared on every path that used it, so an "appearance update"
//! cannot also rewrite something the signed pages show). Each rule grants a modification
//! level (`lta_updates` < `form_filling` < `annotations`); what no rule explains is `other`.
//! A signature fails when a change is `other`, beyond its DocMDP permission (ISO 32000-2
//! §12.8.2.2, Table 257), or touches a field its FieldMDP lock protects (§12.8.2.4).

mod form;
mod graph;
mod rules;
mod tagged;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Document, Object, ObjectId};

use self::graph::Usage;
pub use self::text::Rule;
use super::report::{Action, Change, ModificationLevel};
use super::Deadline;

/// What a certification signature (DocMDP) or a field lock's /P permits after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocMdp {
    /// P=1: no changes (validation data and document timestamps excepted).
    NoChanges,
    /// P=2: form filling and signing.
    FormFilling,
    /// P=3: also annotations.
    Annotations,
}

impl DocMdp {
    pub fn from_p(p: i64) -> DocMdp {
        match p {
            1 => DocMdp::NoChanges,
            3 => DocMdp::Annotations,
            _ => DocMdp::FormFilling,
        }
    }

    fn permits(self) -> ModificationLevel {
        match self {
            // ISO 32000-2 §12.8.2.2.2 and ETSI EN 319 142-1 §5.4: DSS and document
            // timestamps may follow any certification.
            DocMdp::NoChanges => ModificationLevel::LtaUpdates,
            DocMdp::FormFilling => ModificationLevel::FormFilling,
            DocMdp::Annotations => ModificationLevel::Annotations,
        }
    }
}

/// Fields a signature locks (FieldMDP, ISO 32000-2 §12.8.2.4 / Table 256).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FieldLock {
    #[default]
    Nothing,
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldLock {
    fn locks(&self, field: &str) -> bool {
        // A non-terminal name locks the whole subtree under it.
        let listed = |names: &[String]| {
            names
                .iter()
                .any(|n| field == n || field.starts_with(&format!("{n}.")))
        };
        match self {
            FieldLock::Nothing => false,
            FieldLock::All => true,
            FieldLock::Include(names) => listed(names),
            FieldLock::Exclude(names) => !listed(names),
        }
    }
}

/// What the signature being judged permits after it.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub doc_mdp: Option<DocMdp>,
    pub lock: FieldLock,
}

pub struct Analysis {
    pub changes: Vec<Change>,
    pub level: ModificationLevel,
}

/// Judges every revision after `signed` (`revisions[i]` is the document as of revision i,
/// read from `pdf`). Past the deadline the analysis stops: its result would be incomplete.
pub fn analyse(
    pdf: &[u8],
    revisions: &[&Document],
    signed: usize,
    policy: &Policy,
    deadline: &Deadline,
) -> Result<Analysis, String> {
    let mut changes = Vec::new();
    let mut level = ModificationLevel::Unchanged;
    let Some(old) = revisions.get(signed) else {
        return Ok(Analysis { changes, level });
    };
    let usages = graph::usages(old);
    for (k, pair) in revisions.windows(2).enumerate().skip(signed) {
        let (previous, new) = (pair[0], pair[1]);
        let revision = Revision {
            pdf,
            old,
            new,
            usages: &usages,
            number: k + 2,
            deadline,
        };
        deadline.every(0)?;
        let judged = revision.judge(previous, policy)?;
        level = judged.iter().map(|c| c.level).fold(level, Ord::max);
        changes.extend(judged);
    }
    Ok(Analysis { changes, level })
}

/// One later revision, judged against the signed one.
struct Revision<'a> {
    /// The file every revision was read from (stream data stays there).
    pdf: &'a [u8],
    old: &'a Document,
    new: &'a Document,
    usages: &'a BTreeMap<ObjectId, BTreeSet<Usage>>,
    /// 1-based number of this revision.
    number: usize,
    deadline: &'a Deadline,
}

/// How a rule explains one object.
#[derive(Debug, Clone)]
struct Approval {
    level: ModificationLevel,
    rule: Rule,
    /// Cleared on every path (pages, the catalog: referenced from too many places to list).
    blanket: bool,
    cleared: BTreeSet<Usage>,
    /// The form field this change belongs to, for FieldMDP.
    field: Option<String>,
    /// Still fine when that field is locked (only flags changed, or an invisible timestamp).
    when_locked: bool,
}

/// Approvals and suspicious findings collected by the rules for one revision.
#[derive(Default)]
struct Verdicts {
    approvals: BTreeMap<ObjectId, Approval>,
    findings: Vec<(Option<ObjectId>, Rule)>,
}

impl Verdicts {
    fn approve(&mut self, old: &Document, id: ObjectId, a: Approval) {
        let existed = old.objects.contains_key(&id);
        match self.approvals.get_mut(&id) {
            None => {
                self.approvals.insert(id, a);
            }
            Some(e) => {
                e.blanket |= a.blanket;
                e.cleared.extend(a.cleared);
                e.when_locked &= a.when_locked;
                e.field = e.field.take().or(a.field);
                // An overwritten object needs every approval; a new one the mildest.
                let stronger = if existed {
                    a.level > e.level
                } else {
                    a.level < e.level
                };
                if stronger {
                    e.level = a.level;
                    e.rule = a.rule;
                }
            }
        }
    }

    fn finding(&mut self, object: Option<ObjectId>, rule: Rule) {
        self.findings.push((object, rule));
    }
}

/// Builder for an approval: `level`, `rule`, then how it is reached.
fn approval(level: ModificationLevel, rule: Rule, via: Option<Usage>) -> Approval {
    Approval {
        level,
        rule,
        blanket: via.is_none(),
        cleared: via.into_iter().collect(),
        field: None,
        when_locked: true,
    }
}

impl Revision<'_> {
    fn judge(&self, previous: &Document, policy: &Policy) -> Result<Vec<Change>, String> {
        let same = |doc: &Document, id, o| {
            doc.objects
                .get(id)
                .is_some_and(|p| graph::same(self.pdf, p, o))
        };
        let written: Vec<ObjectId> = self
            .new
            .objects
            .iter()
            .filter(|(id, o)| !same(previous, id, o))
            .filter(|(_, o)| !is_structure(o))
            // Rewritten exactly as signed: a no-op.
            .filter(|(id, o)| !same(self.old, id, o))
            .map(|(id, _)| *id)
            .collect();
        let removed: Vec<ObjectId> = previous
            .objects
            .keys()
            .filter(|id| !self.new.objects.contains_key(id))
            .copied()
            .collect();
        if written.is_empty() && removed.is_empty() {
            return Ok(Vec::new());
        }
        let mut v = Verdicts::default();
        rules::catalog(self, &mut v);
        rules::info(self, &mut v);
        rules::metadata(self, &mut v);
        rules::dss(self, &mut v);
        self.deadline.every(0)?;
        let widgets = form::form(self, &mut v)?;
        let annotated = form::pages(self, &mut v, &widgets);
        self.deadline.every(0)?;
        let tagging = match (annotated, widgets.is_empty()) {
            (true, _) => Some(ModificationLevel::Annotations),
            (false, false) => Some(ModificationLevel::FormFilling),
            (false, true) => None,
        };
        tagged::structure_tree(self, &mut v, tagging);
        self.deadline.every(0)?;
        let reachable = graph::reachable(self.new);

        let mut out = Vec::new();
        for (object, rule) in &v.findings {
            let kind = object
                .and_then(|id| self.new.objects.get(&id).or(self.old.objects.get(&id)))
                .map(describe)
                .unwrap_or_default();
            out.push(self.change(
                *object,
                kind,
                Action::Finding,
                ModificationLevel::Other,
                false,
                *rule,
            ));
        }
        for (step, id) in written.into_iter().enumerate() {
            self.deadline.every(step)?;
            let after = &self.new.objects[&id];
            let existed = self.old.objects.contains_key(&id);
            let what = describe(after);
            let (level, rule, allowed) = match v.approvals.get(&id) {
                Some(a) if !existed || a.blanket || self.all_cleared(id, &a.cleared) => {
                    let locked = a
                        .field
                        .as_deref()
                        .is_some_and(|f| !a.when_locked && policy.lock.locks(f));
                    if locked {
                        (ModificationLevel::Other, text::LOCKED, false)
                    } else {
                        (a.level, a.rule, true)
                    }
                }
                Some(_) => (ModificationLevel::Other, text::ALSO_USED, false),
                None if !existed && !reachable.contains(&id) => {
                    (ModificationLevel::LtaUpdates, text::ORPHAN, true)
                }
                None => (ModificationLevel::Other, text::UNEXPLAINED, false),
            };
            let (allowed, rule) = match policy.doc_mdp {
                Some(mdp) if allowed && level > mdp.permits() => (false, text::DOCMDP),
                _ => (allowed, rule),
            };
            let action = if existed {
                Action::Changed
            } else {
                Action::Added
            };
            out.push(self.change(Some(id), what, action, level, allowed, rule));
        }
        for id in removed {
            let approved = v.approvals.get(&id);
            let (level, rule, allowed) = match approved {
                Some(a) => (a.level, a.rule, true),
                None => (ModificationLevel::Other, text::REMOVED, false),
            };
            let (allowed, rule) = match policy.doc_mdp {
                Some(mdp) if allowed && level > mdp.permits() => (false, text::DOCMDP),
                _ => (allowed, rule),
            };
            let kind = describe(&self.old.objects.get(&id).cloned().unwrap_or(Object::Null));
            out.push(self.change(Some(id), kind, Action::Removed, level, allowed, rule));
        }
        Ok(out)
    }

    fn change(
        &self,
        object: Option<ObjectId>,
        kind: String,
        action: Action,
        level: ModificationLevel,
        allowed: bool,
        rule: Rule,
    ) -> Change {
        Change {
            object: object.map_or_else(|| "—".into(), |id| format!("{} {} R", id.0, id.1)),
            what: match action {
                Action::Finding => rule.en.to_owned(),
                _ => format!("{kind} {}", action.en()),
            },
            kind,
            action,
            revision: self.number,
            level,
            allowed: allowed && level != ModificationLevel::Other,
            rule,
        }
    }

    /// Every path by which the signed revision used `id` has been cleared by a rule.
    fn all_cleared(&self, id: ObjectId, cleared: &BTreeSet<Usage>) -> bool {
        self.usages
            .get(&id)
            .is_none_or(|used| used.iter().all(|u| cleared.contains(u)))
    }

    fn old_catalog_id(&self) -> Option<ObjectId> {
        graph::catalog_id(self.old)
    }

    fn new_catalog_id(&self) -> Option<ObjectId> {
        graph::catalog_id(self.new)
    }

    /// A reference that replaces `old_ref` (or is added) without clobbering: the same
    /// non-stream object, or an object that did not exist when the document was signed
    /// (pyHanko's `safe_whitelist`).
    fn safe_ref(&self, old_ref: Option<ObjectId>, new_ref: ObjectId) -> bool {
        let not_stream =
            |doc: &Document, id| !matches!(doc.objects.get(&id), Some(Object::Stream(_)));
        if old_ref == Some(new_ref) {
            not_stream(self.old, new_ref) && not_stream(self.new, new_ref)
        } else {
            !self.old.objects.contains_key(&new_ref)
        }
    }

    /// Approves the value under `key` of two versions of a dictionary when its reference is
    /// safe (`safe_ref`), with `holder`/`key` as the path cleared. `false` on a clobber.
    fn approve_key_ref(
        &self,
        v: &mut Verdicts,
        old_value: Option<&Object>,
        new_value: Option<&Object>,
        via: Usage,
        level: ModificationLevel,
        rule: Rule,
    ) -> bool {
        let Some(Object::Reference(new_ref)) = new_value else {
            return true;
        };
        let old_ref = old_value.and_then(|o| o.as_reference().ok());
        if !self.safe_ref(old_ref, *new_ref) {
            v.finding(Some(*new_ref), text::CLOBBER);
            return false;
        }
        v.approve(self.old, *new_ref, approval(level, rule, Some(via)));
        true
    }

    /// `approve_key_ref`, then everything new the value holds (a dictionary or array that
    /// may be direct, or an old object rewritten in place).
    fn approve_value(
        &self,
        v: &mut Verdicts,
        old_value: Option<&Object>,
        new_value: &Object,
        via: Usage,
        level: ModificationLevel,
        rule: Rule,
    ) {
        if self.approve_key_ref(v, old_value, Some(new_value), via, level, rule) {
            if let Some(value) = graph::resolve(self.new, new_value) {
                self.approve_new(v, value, level, rule);
            }
        }
    }

    /// Approves everything `value` brought along that did not exist when signed.
    fn approve_new(&self, v: &mut Verdicts, value: &Object, level: ModificationLevel, rule: Rule) {
        for id in graph::new_dependencies(self.old, self.new, value) {
            v.approve(self.old, id, approval(level, rule, None));
        }
    }
}

/// Cross-reference and object streams are containers, judged through the objects they hold.
fn is_structure(object: &Object) -> bool {
    graph::type_name(object).is_some_and(|t| t == b"XRef" || t == b"ObjStm")
}

fn describe(object: &Object) -> String {
    let Some(d) = graph::dict(object) else {
        return match object {
            Object::Array(_) => "array".into(),
            Object::Null => "null".into(),
            _ => "value".into(),
        };
    };
    let ty = graph::name(d, b"Type").or_else(|| graph::name(d, b"FT").map(|_| &b"Field"[..]));
    let sub = graph::name(d, b"Subtype");
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match (ty, sub) {
        (Some(t), Some(u)) => format!("{} /{}", s(t), s(u)),
        (Some(t), None) => s(t),
        (None, Some(u)) => s(u),
        (None, None) if matches!(object, Object::Stream(_)) => "stream".into(),
        _ => "dictionary".into(),
    }
}

#[cfg(test)]
mod tests {
    use lopdf::{dictionary, Stream};

    use super::*;

    fn analysed(revisions: &[&Document], signed: usize, policy: &Policy) -> Analysis {
        let deadline = Deadline::new(&crate::pdf::read::Limits::default());
        analyse(&[], revisions, signed, policy, &deadline).unwrap()
    }

    /// A one-page document with a form whose fields are `fields`.
    fn document(fields: Vec<Object>) -> Document {
        let mut doc = Document::with_version("1.7");
        let pages = doc.new_object_id();
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let form = doc.add_object(dictionary! { "Fields" => fields });
        let catalog = doc
            .add_object(dictionary! { "Type" => "Catalog", "Pages" => pages, "AcroForm" => form });
        doc.trailer.set("Root", catalog);
        doc
    }

    fn set_fields(doc: &mut Document, fields: Vec<Object>) {
        let form = doc.catalog().unwrap().get(b"AcroForm").unwrap();
        let form = form.as_reference().unwrap();
        doc.get_dictionary_mut(form).unwrap().set("Fields", fields);
    }

    #[test]
    fn a_field_that_is_its_own_kid_twice_is_read_once() {
        let mut doc = document(vec![]);
        let id = doc.new_object_id();
        doc.objects.insert(
            id,
            Object::Dictionary(dictionary! { "T" => Object::string_literal("loop"), "FT" => "Tx", "Kids" => vec![id.into(), id.into()] }),
        );
        set_fields(&mut doc, vec![id.into(), id.into()]);
        let mut later = doc.clone();
        later
            .get_dictionary_mut(id)
            .unwrap()
            .set("V", Object::string_literal("x"));
        let analysis = analysed(&[&doc, &later], 0, &Policy::default());
        assert_eq!(analysis.level, ModificationLevel::FormFilling);
    }

    #[test]
    fn a_binary_tree_of_fields_costs_one_visit_per_object() {
        // 60 levels, each node's two kids being the same two nodes: 2^60 paths, 120 objects.
        let mut doc = document(vec![]);
        let mut level: Vec<Object> = Vec::new();
        for depth in 0..60 {
            let pair: Vec<Object> = (0..2)
                .map(|i| {
                    let mut field = dictionary! { "T" => Object::string_literal(format!("f{depth}{i}")), "FT" => "Tx" };
                    if !level.is_empty() {
                        field.set("Kids", level.clone());
                    }
                    doc.add_object(field).into()
                })
                .collect();
            level = pair;
        }
        set_fields(&mut doc, level);
        let started = std::time::Instant::now();
        let analysis = analysed(&[&doc, &doc.clone()], 0, &Policy::default());
        assert!(analysis.changes.is_empty());
        assert!(started.elapsed().as_secs() < 5);
    }

    /// pyHanko's "sneaky" case: the appearance stream of the field being signed is rewritten
    /// in place, but the catalog shows the same stream elsewhere.
    fn sneaky(shared: bool) -> Analysis {
        let mut doc = document(vec![]);
        let stream = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Form" },
            b"0 g".to_vec(),
        ));
        let field = doc.add_object(dictionary! {
            "T" => Object::string_literal("Sig2"), "FT" => "Sig", "Subtype" => "Widget",
            "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()], "AP" => dictionary! { "N" => stream },
        });
        set_fields(&mut doc, vec![field.into()]);
        if shared {
            doc.catalog_mut().unwrap().set("FooBar", stream);
        }
        let mut later = doc.clone();
        later.objects.insert(
            stream,
            Object::Stream(Stream::new(
                dictionary! { "Type" => "XObject", "Subtype" => "Form" },
                b"1 g".to_vec(),
            )),
        );
        let sig = later.add_object(dictionary! { "Type" => "Sig" });
        later.get_dictionary_mut(field).unwrap().set("V", sig);
        analysed(&[&doc, &later], 0, &Policy::default())
    }

    #[test]
    fn an_appearance_rewritten_in_place_is_allowed_only_when_nothing_else_shows_it() {
        let honest = sneaky(false);
        assert_eq!(honest.level, ModificationLevel::FormFilling);
        assert!(honest.changes.iter().all(|c| c.allowed));
        let sneaky = sneaky(true);
        assert_eq!(sneaky.level, ModificationLevel::Other);
        assert!(sneaky
            .changes
            .iter()
            .any(|c| !c.allowed && c.rule == text::ALSO_USED));
    }

    #[test]
    fn signing_is_beyond_docmdp_p1_and_a_lock_protects_its_fields() {
        let no_changes = Policy {
            doc_mdp: Some(DocMdp::NoChanges),
            ..Policy::default()
        };
        let mut doc = document(vec![]);
        let field =
            doc.add_object(dictionary! { "T" => Object::string_literal("name"), "FT" => "Tx" });
        set_fields(&mut doc, vec![field.into()]);
        let mut later = doc.clone();
        later
            .get_dictionary_mut(field)
            .unwrap()
            .set("V", Object::string_literal("Nguyễn Văn A"));
        let filled = analysed(&[&doc, &later], 0, &no_changes);
        assert!(filled
            .changes
            .iter()
            .any(|c| !c.allowed && c.rule == text::DOCMDP));
        let locked = Policy {
            lock: FieldLock::Include(vec!["name".into()]),
            ..Policy::default()
        };
        let filled = analysed(&[&doc, &later], 0, &locked);
        assert!(filled
            .changes
            .iter()
            .any(|c| !c.allowed && c.rule == text::LOCKED));
        let other = Policy {
            lock: FieldLock::Include(vec!["other".into()]),
            ..Policy::default()
        };
        assert!(analysed(&[&doc, &later], 0, &other)
            .changes
            .iter()
            .all(|c| c.allowed));
    }
}
