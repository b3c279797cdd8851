//! The interactive form and the pages' annotations: which fields were added, signed or
//! filled in, and whether their widgets and appearances changed only as that requires
//! (ISO 32000-2 §12.7, §12.8.2.2 Table 257).

use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::graph::{self, Usage};
use super::rules::catalog_dict;
use super::{approval, text, Approval, Revision, Rule, Verdicts};
use crate::pdf::verify::report::ModificationLevel::{self, *};

/// Most fields (and widgets) read from one form: far above any real form, low enough that a
/// binary tree of fields stays cheap.
const MAX_FIELDS: usize = 10_000;
/// Deepest field hierarchy followed.
const MAX_DEPTH: usize = 32;
/// Most page-tree nodes visited.
const MAX_PAGES: usize = 100_000;

/// Keys a fill-in (or a signing) changes: value, appearance, appearance state, flags.
const VALUE_KEYS: &[&[u8]] = &[b"AP", b"AS", b"V", b"F", b"DA", b"Q", b"Ff", b"Type"];
/// Keys that may change even on a locked field.
const ALWAYS_MODIFIABLE: &[&[u8]] = &[b"Ff", b"Type"];

/// One field of a form, by fully qualified name.
struct Field {
    id: ObjectId,
    /// `/FT`, inherited from the parents when the field has none.
    kind: Option<Vec<u8>>,
    /// Its widget annotations: its kids without /T, or the field itself when it has none.
    widgets: Vec<ObjectId>,
}

fn list_fields(doc: &Document, form: Option<&Dictionary>) -> BTreeMap<String, Field> {
    let mut out = BTreeMap::new();
    let mut seen = BTreeSet::new();
    if let Some(fields) = form.and_then(|f| graph::ref_array(doc, f.get(b"Fields").ok())) {
        walk(doc, &fields, "", None, 0, &mut seen, &mut out);
    }
    out
}

fn walk(
    doc: &Document,
    items: &[ObjectId],
    parent: &str,
    inherited: Option<&[u8]>,
    depth: usize,
    seen: &mut BTreeSet<ObjectId>,
    out: &mut BTreeMap<String, Field>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for &id in items {
        // A field listed twice (or its own kid) is read once.
        if seen.len() >= MAX_FIELDS || !seen.insert(id) {
            continue;
        }
        let Some(field) = doc.objects.get(&id).and_then(graph::dict) else {
            continue;
        };
        let Ok(t) = field.get(b"T") else { continue };
        let t = lopdf::decode_text_string(t).unwrap_or_default();
        let name = if parent.is_empty() {
            t
        } else {
            format!("{parent}.{t}")
        };
        let kind = graph::name(field, b"FT").or(inherited);
        let kids = graph::ref_array(doc, field.get(b"Kids").ok()).unwrap_or_default();
        let (sub_fields, widgets): (Vec<ObjectId>, Vec<ObjectId>) = kids.iter().partition(|k| {
            doc.objects
                .get(k)
                .and_then(graph::dict)
                .is_some_and(|d| d.has(b"T"))
        });
        let widgets = if kids.is_empty() { vec![id] } else { widgets };
        out.entry(name.clone()).or_insert(Field {
            id,
            kind: kind.map(<[u8]>::to_vec),
            widgets,
        });
        walk(doc, &sub_fields, &name, kind, depth + 1, seen, out);
    }
}

fn visible(doc: &Document, widgets: &[ObjectId]) -> bool {
    widgets.iter().any(|w| {
        let rect: Vec<f32> = doc
            .objects
            .get(w)
            .and_then(graph::dict)
            .and_then(|d| d.get(b"Rect").ok())
            .and_then(|r| r.as_array().ok())
            .map(|a| a.iter().filter_map(|n| n.as_float().ok()).collect())
            .unwrap_or_default();
        matches!(rect[..], [x1, y1, x2, y2] if (x1 - x2) * (y1 - y2) != 0.0)
    })
}

/// Judges the form; returns the widgets of new signature fields (by field name), which
/// the pages may list.
pub fn form(r: &Revision, v: &mut Verdicts) -> Result<BTreeMap<ObjectId, String>, String> {
    let mut new_widgets = BTreeMap::new();
    let (Some(old_cat), Some(new_cat)) = (catalog_dict(r, true), catalog_dict(r, false)) else {
        return Ok(new_widgets);
    };
    let old_raw = old_cat.get(b"AcroForm").ok();
    let Ok(new_raw) = new_cat.get(b"AcroForm") else {
        if old_raw.is_some() {
            v.finding(r.new_catalog_id(), text::FIELD_REMOVED);
        }
        return Ok(new_widgets);
    };
    let catalog = r.new_catalog_id();
    r.approve_key_ref(
        v,
        old_raw,
        Some(new_raw),
        Usage::at(catalog, "/AcroForm"),
        LtaUpdates,
        text::FORM,
    );
    let empty = Dictionary::new();
    let old_form = old_raw.and_then(|o| graph::resolve_dict(r.old, o));
    let Some(new_form) = graph::resolve_dict(r.new, new_raw) else {
        return Ok(new_widgets);
    };
    let (holder, prefix) = match new_raw {
        Object::Reference(id) => (Some(*id), String::new()),
        _ => (catalog, "/AcroForm".to_owned()),
    };
    let exempt: &[&[u8]] = &[
        b"Fields",
        b"DR",
        b"DA",
        b"Q",
        b"NeedAppearances",
        b"SigFlags",
    ];
    if !graph::dicts_equal_except(old_form.unwrap_or(&empty), new_form, exempt) {
        v.finding(holder, text::FIELD_CHANGED);
    }
    let of = old_form.unwrap_or(&empty);
    r.approve_key_ref(
        v,
        of.get(b"Fields").ok(),
        new_form.get(b"Fields").ok(),
        Usage::at(holder, &format!("{prefix}/Fields")),
        LtaUpdates,
        text::FORM,
    );
    if let Ok(dr) = new_form.get(b"DR") {
        let via = Usage::at(holder, &format!("{prefix}/DR"));
        r.approve_value(
            v,
            of.get(b"DR").ok(),
            dr,
            via,
            FormFilling,
            text::FORM_RESOURCES,
        );
    }

    let old_fields = list_fields(r.old, old_form);
    let new_fields = list_fields(r.new, Some(new_form));
    for (name, f) in &old_fields {
        if !new_fields.contains_key(name) {
            v.finding(Some(f.id), text::FIELD_REMOVED);
        }
    }
    for (step, (name, nf)) in new_fields.iter().enumerate() {
        r.deadline.every(step)?;
        match old_fields.get(name) {
            None => new_field(r, v, name, nf, &mut new_widgets),
            Some(of) if of.kind != nf.kind => v.finding(Some(nf.id), text::FIELD_CHANGED),
            Some(of) if nf.kind.as_deref() == Some(b"Sig") => signature_field(r, v, name, of, nf),
            Some(of) => filled_field(r, v, name, of, nf),
        }
    }
    Ok(new_widgets)
}

/// A field added after signing: only signature fields may be (pyHanko's SigFieldCreationRule);
/// invisible ones are `lta_updates`, visible ones `form_filling`.
fn new_field(
    r: &Revision,
    v: &mut Verdicts,
    name: &str,
    f: &Field,
    new_widgets: &mut BTreeMap<ObjectId, String>,
) {
    if f.kind.as_deref() != Some(b"Sig") {
        v.finding(Some(f.id), text::FIELD_ADDED);
        return;
    }
    let shown = visible(r.new, &f.widgets);
    let level = if shown { FormFilling } else { LtaUpdates };
    let mark = |a: Approval| Approval {
        field: Some(name.to_owned()),
        when_locked: !shown,
        ..a
    };
    let Some(field) = r.new.objects.get(&f.id).and_then(graph::dict) else {
        return;
    };
    if !r.old.objects.contains_key(&f.id) {
        v.approve(
            r.old,
            f.id,
            mark(approval(level, text::NEW_SIGNATURE_FIELD, None)),
        );
    } else {
        v.finding(Some(f.id), text::CLOBBER);
    }
    // What an invisible field brings along cannot be seen: it stays at the field's level
    // (pyHanko puts appearances at `form_filling` always, which would make a document
    // timestamp with an empty appearance break a P=1 certification).
    for key in [&b"AP"[..], b"Lock", b"SV", b"Kids"] {
        if let Ok(value) = field.get(key) {
            r.approve_new(v, value, level, text::NEW_SIGNATURE_FIELD);
        }
    }
    for &w in &f.widgets {
        new_widgets.insert(w, name.to_owned());
        if w == f.id {
            continue;
        }
        if r.old.objects.contains_key(&w) {
            v.finding(Some(w), text::CLOBBER);
            continue;
        }
        v.approve(
            r.old,
            w,
            mark(approval(level, text::NEW_SIGNATURE_FIELD, None)),
        );
        if let Some(ap) = r
            .new
            .objects
            .get(&w)
            .and_then(graph::dict)
            .and_then(|d| d.get(b"AP").ok())
        {
            r.approve_new(v, ap, level, text::NEW_SIGNATURE_FIELD);
        }
    }
    if let Ok(value) = field.get(b"V") {
        signature_value(r, v, name, value, shown);
    }
}

/// A signature field of the signed revision: it may be signed once (pyHanko's
/// SigFieldModificationRule); a signed one stays as it is, apart from its flags.
fn signature_field(r: &Revision, v: &mut Verdicts, name: &str, of: &Field, nf: &Field) {
    let (Some(old), Some(new)) = (
        r.old.objects.get(&of.id).and_then(graph::dict),
        r.new.objects.get(&nf.id).and_then(graph::dict),
    ) else {
        return;
    };
    let was_signed = old.has(b"V");
    if !was_signed && new.has(b"V") {
        let shown = visible(r.new, &nf.widgets);
        for (old_id, new_id) in parts(of, nf) {
            if let Some(when_locked) = compare_part(r, v, old_id, new_id, false) {
                approve_part(
                    r,
                    v,
                    new_id,
                    name,
                    when_locked,
                    LtaUpdates,
                    text::SIGNED_FIELD,
                );
                appearance(r, v, old_id, new_id);
            }
        }
        if let Ok(value) = new.get(b"V") {
            signature_value(r, v, name, value, shown);
        }
        return;
    }
    for (old_id, new_id) in parts(of, nf) {
        match compare_part(r, v, old_id, new_id, false) {
            Some(true) => {
                approve_part(r, v, new_id, name, true, LtaUpdates, text::FIELD_FLAGS);
            }
            Some(false) if was_signed => v.finding(Some(new_id), text::SIGNATURE_REPLACED),
            // Still unsigned: its appearance may be prepared.
            Some(false) => {
                approve_part(r, v, new_id, name, false, FormFilling, text::APPEARANCE);
                appearance(r, v, old_id, new_id);
            }
            None => {}
        }
    }
}

/// A text, choice or button field: its value and appearance may change (`form_filling`).
fn filled_field(r: &Revision, v: &mut Verdicts, name: &str, of: &Field, nf: &Field) {
    for (old_id, new_id) in parts(of, nf) {
        let dropped = old_id == of.id && widgets_dropped(r, of.id);
        let Some(when_locked) = compare_part(r, v, old_id, new_id, dropped) else {
            continue;
        };
        let (level, rule) = match dropped {
            true => (Annotations, text::ANNOTATION),
            false => (FormFilling, text::FIELD_FILLED),
        };
        approve_part(r, v, new_id, name, when_locked, level, rule);
        let old_kids = r.old.objects.get(&of.id).and_then(graph::dict);
        if let Some(Object::Reference(list)) = old_kids.and_then(|d| d.get(b"Kids").ok()) {
            if dropped && !r.new.objects.contains_key(list) {
                v.approve(r.old, *list, approval(Annotations, text::ANNOTATION, None));
            }
        }
        appearance(r, v, old_id, new_id);
        let value = |doc: &Document, id| {
            doc.objects
                .get(&id)
                .and_then(graph::dict)
                .and_then(|d| d.get(b"V").ok().cloned())
        };
        let new_value = value(r.new, new_id);
        if let Some(nv) = new_value
            .as_ref()
            .filter(|nv| value(r.old, old_id).as_ref() != Some(*nv))
        {
            r.approve_new(v, nv, FormFilling, text::FIELD_FILLED);
        }
    }
}

/// A field's /Kids only lost widgets (kids without /T): its widgets were taken off the
/// pages, an annotation change (ISO 32000-2 Table 257 P=3; iText likewise).
fn widgets_dropped(r: &Revision, id: ObjectId) -> bool {
    let kids = |doc: &Document| {
        let field = doc.objects.get(&id).and_then(graph::dict);
        graph::ref_array(doc, field.and_then(|f| f.get(b"Kids").ok())).unwrap_or_default()
    };
    let (before, after) = (kids(r.old), kids(r.new));
    let is_widget = |k: &&ObjectId| {
        r.old
            .objects
            .get(*k)
            .and_then(graph::dict)
            .is_some_and(|d| !d.has(b"T"))
    };
    before != after
        && after.iter().all(|k| before.contains(k))
        && before
            .iter()
            .filter(|k| !after.contains(k))
            .all(|k| is_widget(&k))
}

/// The field dictionary and its separate widgets, paired old → new (widgets by position).
fn parts(of: &Field, nf: &Field) -> Vec<(ObjectId, ObjectId)> {
    let mut out = vec![(of.id, nf.id)];
    out.extend(
        of.widgets
            .iter()
            .zip(&nf.widgets)
            .filter(|(o, n)| **o != of.id && **n != nf.id)
            .map(|(o, n)| (*o, *n)),
    );
    out
}

/// `None` when unchanged (nothing to approve) or changed beyond the value keys (a finding);
/// otherwise whether the change would be fine on a locked field.
fn compare_part(
    r: &Revision,
    v: &mut Verdicts,
    old_id: ObjectId,
    new_id: ObjectId,
    widgets_dropped: bool,
) -> Option<bool> {
    let (old, new) = (r.old.objects.get(&old_id)?, r.new.objects.get(&new_id)?);
    if old_id == new_id && graph::same(r.pdf, old, new) {
        return None;
    }
    let (od, nd) = (graph::dict(old)?, graph::dict(new)?);
    let dropped: &[&[u8]] = if widgets_dropped { &[b"Kids"] } else { &[] };
    let type_ok = match (graph::name(od, b"Type"), graph::name(nd, b"Type")) {
        (None, Some(t)) => t == b"Annot",
        (o, n) => o == n,
    };
    if old_id != new_id
        || matches!(new, Object::Stream(_))
        || !type_ok
        || !graph::dicts_equal_except(od, nd, &[VALUE_KEYS, dropped].concat())
    {
        v.finding(Some(new_id), text::FIELD_CHANGED);
        return None;
    }
    Some(graph::dicts_equal_except(od, nd, ALWAYS_MODIFIABLE))
}

/// Approves a field (or widget) dictionary on the paths a form uses: the form's /Fields, a
/// parent's /Kids, a page's /Annots, and the structure tree's object reference.
fn approve_part(
    r: &Revision,
    v: &mut Verdicts,
    id: ObjectId,
    name: &str,
    when_locked: bool,
    level: ModificationLevel,
    rule: Rule,
) {
    let cleared: BTreeSet<Usage> = r
        .usages
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|u| {
            ["/Fields[]", "/Kids[]", "/Annots[]", "/Obj"]
                .iter()
                .any(|end| u.path.ends_with(end))
                || (u.path == "[]" && is_array(r.old, u.holder))
        })
        .cloned()
        .collect();
    let a = Approval {
        field: Some(name.to_owned()),
        when_locked,
        cleared,
        ..approval(level, rule, None)
    };
    v.approve(
        r.old,
        id,
        Approval {
            blanket: false,
            ..a
        },
    );
}

fn is_array(doc: &Document, id: Option<ObjectId>) -> bool {
    id.and_then(|id| doc.objects.get(&id))
        .is_some_and(|o| matches!(o, Object::Array(_)))
}

/// A new or updated appearance (`/AP`) of a field being filled or signed: new streams are
/// fine; an appearance stream rewritten in place only when nothing else used it; an
/// appearance dictionary shared with other objects may not be replaced (pyHanko's
/// `_allow_appearance_update` and `_allow_in_place_appearance_update`).
fn appearance(r: &Revision, v: &mut Verdicts, old_id: ObjectId, new_id: ObjectId) {
    let (Some(od), Some(nd)) = (
        r.old.objects.get(&old_id).and_then(graph::dict),
        r.new.objects.get(&new_id).and_then(graph::dict),
    ) else {
        return;
    };
    let (old_raw, Ok(new_raw)) = (od.get(b"AP").ok(), nd.get(b"AP")) else {
        return;
    };
    if !r.approve_key_ref(
        v,
        old_raw,
        Some(new_raw),
        Usage::at(Some(new_id), "/AP"),
        FormFilling,
        text::APPEARANCE,
    ) {
        return;
    }
    let Some(new_ap) = graph::resolve_dict(r.new, new_raw) else {
        return;
    };
    // An indirect appearance dictionary also used elsewhere: replacing it, or any stream it
    // names, would change the other place too.
    if let Some(Object::Reference(shared)) = old_raw {
        if r.usages.get(shared).is_some_and(|u| u.len() > 1) {
            v.finding(Some(*shared), text::SHARED_APPEARANCE);
            return;
        }
    }
    let old_ap = old_raw.and_then(|o| graph::resolve_dict(r.old, o));
    for key in [&b"N"[..], b"R", b"D"] {
        let Ok(value) = new_ap.get(key) else { continue };
        r.approve_new(v, value, FormFilling, text::APPEARANCE);
        // In place: the same stream object, rewritten (not for on/off states, /AS).
        let old_ref = old_ap
            .and_then(|a| a.get(key).ok())
            .and_then(|o| o.as_reference().ok());
        let (Some(old_ref), Ok(new_ref)) = (old_ref, value.as_reference()) else {
            continue;
        };
        if od.has(b"AS") || old_ref != new_ref {
            continue;
        }
        let key = String::from_utf8_lossy(key);
        let via = match old_raw {
            Some(Object::Reference(ap)) => Usage::at(Some(*ap), &format!("/{key}")),
            _ => Usage::at(Some(new_id), &format!("/AP/{key}")),
        };
        v.approve(
            r.old,
            new_ref,
            approval(FormFilling, text::APPEARANCE, Some(via)),
        );
        if let Some(stream) = r.new.objects.get(&new_ref) {
            r.approve_new(v, stream, FormFilling, text::APPEARANCE);
        }
    }
}

/// The value of a newly signed field: a new signature dictionary. An invisible document
/// timestamp is `lta_updates`, any other signature `form_filling`.
fn signature_value(r: &Revision, v: &mut Verdicts, name: &str, value: &Object, shown: bool) {
    let Ok(id) = value.as_reference() else {
        v.finding(None, text::SIGNATURE_REPLACED);
        return;
    };
    if r.old.objects.contains_key(&id) {
        v.finding(Some(id), text::SIGNATURE_REPLACED);
        return;
    }
    let Some(sig) = r.new.objects.get(&id) else {
        return;
    };
    let timestamp = graph::type_name(sig) == Some(b"DocTimeStamp") && !shown;
    let level = if timestamp { LtaUpdates } else { FormFilling };
    let a = Approval {
        field: Some(name.to_owned()),
        when_locked: timestamp,
        ..approval(level, text::SIGNATURE, None)
    };
    v.approve(r.old, id, a);
    r.approve_new(v, sig, level, text::SIGNATURE);
}

/// Walks the old and new page trees side by side: the tree must not change; a page may only
/// list new signature widgets (`lta_updates`) and add, change or remove other annotations
/// (`annotations`, ISO 32000-2 Table 257 P=3).
/// Returns whether annotations other than widgets were added (the structure tree may then
/// tag them).
pub fn pages(r: &Revision, v: &mut Verdicts, new_widgets: &BTreeMap<ObjectId, String>) -> bool {
    let root = |cat: Option<&Dictionary>| {
        cat.and_then(|c| c.get(b"Pages").ok())
            .and_then(|p| p.as_reference().ok())
    };
    let (Some(old_root), Some(new_root)) =
        (root(catalog_dict(r, true)), root(catalog_dict(r, false)))
    else {
        return false;
    };
    let mut annotated = false;
    // Widgets of text, choice and button fields may be taken off (not a signature's).
    let old_form = catalog_dict(r, true)
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| graph::resolve_dict(r.old, f));
    let removable: BTreeSet<ObjectId> = list_fields(r.old, old_form)
        .into_values()
        .filter(|f| f.kind.as_deref() != Some(b"Sig"))
        .flat_map(|f| f.widgets)
        .collect();
    let mut seen = BTreeSet::new();
    let mut queue = vec![(old_root, new_root)];
    while let Some((old_id, new_id)) = queue.pop() {
        if seen.len() >= MAX_PAGES || !seen.insert(old_id) {
            continue;
        }
        let (Some(od), Some(nd)) = (
            r.old.objects.get(&old_id).and_then(graph::dict),
            r.new.objects.get(&new_id).and_then(graph::dict),
        ) else {
            continue;
        };
        if old_id != new_id {
            v.finding(Some(new_id), text::PAGE_CHANGED);
            continue;
        }
        if graph::name(od, b"Type") == Some(b"Pages") || od.has(b"Kids") {
            let (ok, nk) = (
                graph::ref_array(r.old, od.get(b"Kids").ok()),
                graph::ref_array(r.new, nd.get(b"Kids").ok()),
            );
            match (ok, nk) {
                (Some(ok), Some(nk)) if ok == nk => queue.extend(ok.into_iter().zip(nk)),
                _ => v.finding(Some(new_id), text::PAGE_CHANGED),
            }
            continue;
        }
        annotated |= page(r, v, new_id, od, nd, new_widgets, &removable);
    }
    annotated
}

fn page(
    r: &Revision,
    v: &mut Verdicts,
    id: ObjectId,
    od: &Dictionary,
    nd: &Dictionary,
    new_widgets: &BTreeMap<ObjectId, String>,
    removable: &BTreeSet<ObjectId>,
) -> bool {
    let (Some(old_annots), Some(new_annots)) = (
        graph::ref_array(r.old, od.get(b"Annots").ok()),
        graph::ref_array(r.new, nd.get(b"Annots").ok()),
    ) else {
        v.finding(Some(id), text::PAGE_CHANGED);
        return false;
    };
    let mut annotated = false;
    let is_widget = |doc: &Document, a: &ObjectId| {
        doc.objects
            .get(a)
            .and_then(graph::dict)
            .and_then(|d| graph::name(d, b"Subtype"))
            == Some(b"Widget")
    };
    let mut level = LtaUpdates;
    let annotation = |v: &mut Verdicts, a: ObjectId| {
        v.approve(r.old, a, approval(Annotations, text::ANNOTATION, None));
    };
    for &a in old_annots.iter().filter(|a| !new_annots.contains(a)) {
        if is_widget(r.old, &a) && !removable.contains(&a) {
            v.finding(Some(a), text::WIDGET_REMOVED);
        } else {
            // Removed from the page: whatever is left of it is shown nowhere.
            level = Annotations;
            annotation(v, a);
        }
    }
    for &a in &new_annots {
        let old_object = r.old.objects.get(&a);
        let Some(object) = r.new.objects.get(&a) else {
            continue;
        };
        if old_annots.contains(&a) {
            // An existing comment or markup edited in place (widgets are the form's).
            let edited = old_object.is_some_and(|o| !graph::same(r.pdf, o, object));
            if edited && !is_widget(r.old, &a) && matches!(object, Object::Dictionary(_)) {
                level = Annotations;
                annotation(v, a);
                r.approve_new(v, object, Annotations, text::ANNOTATION);
            }
        } else if new_widgets.contains_key(&a) {
            // A new signature's widget: approved with its field.
        } else if is_widget(r.new, &a) {
            v.finding(Some(a), text::WIDGET_UNKNOWN);
        } else if old_object.is_some() {
            v.finding(Some(a), text::CLOBBER);
        } else {
            level = Annotations;
            annotated = true;
            annotation(v, a);
            r.approve_new(v, object, Annotations, text::ANNOTATION);
        }
    }
    // The tab order of annotations (/Tabs, ISO 32000-2 Table 31) is an annotation matter;
    // /S, the structure order, is what a reader uses anyway in a tagged document, so adding
    // it changes nothing (iText likewise).
    let (old_tabs, new_tabs) = (graph::name(od, b"Tabs"), graph::name(nd, b"Tabs"));
    if old_tabs != new_tabs && !(old_tabs.is_none() && new_tabs == Some(b"S")) {
        level = level.max(Annotations);
    }
    let rule = if level == LtaUpdates {
        text::PAGE_WIDGET
    } else {
        text::ANNOTATION
    };
    // A page that gets its first tagged annotation also gets /StructParents (§14.7.5.4).
    let may_change: &[&[u8]] = if od.has(b"StructParents") {
        &[b"Annots", b"Tabs"]
    } else {
        &[b"Annots", b"Tabs", b"StructParents"]
    };
    if !graph::dicts_equal_except(od, nd, may_change) {
        return annotated;
    }
    // Pages are referenced from many places (outlines, links, widgets): cleared at once,
    // their other keys being unchanged.
    v.approve(r.old, id, approval(level, rule, None));
    let old_raw = od.get(b"Annots").ok();
    match nd.get(b"Annots") {
        Ok(new_raw @ Object::Reference(_)) => {
            let via = Usage::at(Some(id), "/Annots");
            r.approve_key_ref(v, old_raw, Some(new_raw), via, level, rule);
        }
        // The old indirect list was dropped or inlined.
        _ => {
            if let Some(Object::Reference(old_list)) = old_raw {
                if !r.new.objects.contains_key(old_list) {
                    v.approve(r.old, *old_list, approval(level, rule, None));
                }
            }
        }
    }
    annotated
}
