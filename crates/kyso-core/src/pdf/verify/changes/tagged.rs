//! The structure tree of a tagged PDF (ISO 32000-2 §14.7): a signer that adds a widget also
//! tags it — a new structure element with an object reference to the widget, appended to an
//! existing element's kids and registered in the parent tree. Only that is allowed, and only
//! in a revision that adds signature widgets; it changes no rendered content.

use std::collections::BTreeSet;

use lopdf::{Object, ObjectId};

use super::graph::{self, Usage};
use super::rules::catalog_dict;
use super::{approval, text, Revision, Verdicts};
use crate::pdf::verify::report::ModificationLevel;

/// What tagging a new widget changes in the structure tree root.
const ROOT_KEYS: &[&[u8]] = &[b"K", b"ParentTree", b"ParentTreeNextKey"];

/// `level`: `form_filling` when the revision adds signature widgets, `annotations` when it
/// adds other annotations; nothing may be tagged otherwise.
pub fn structure_tree(r: &Revision, v: &mut Verdicts, level: Option<ModificationLevel>) {
    let Some(level) = level else { return };
    let (Some(old_cat), Some(new_cat)) = (catalog_dict(r, true), catalog_dict(r, false)) else {
        return;
    };
    let (Ok(Object::Reference(root)), Ok(Object::Reference(new_root))) = (
        old_cat.get(b"StructTreeRoot"),
        new_cat.get(b"StructTreeRoot"),
    ) else {
        return;
    };
    let (Some(od), Some(nd)) = (
        r.old.objects.get(root).and_then(graph::dict),
        r.new.objects.get(new_root).and_then(graph::dict),
    ) else {
        return;
    };
    if root != new_root || !graph::dicts_equal_except(od, nd, ROOT_KEYS) {
        return;
    }
    v.approve(r.old, *root, approval(level, text::TAGGED, None));
    if let Ok(tree) = nd.get(b"ParentTree") {
        let via = Usage::at(Some(*root), "/ParentTree");
        r.approve_value(
            v,
            od.get(b"ParentTree").ok(),
            tree,
            via,
            level,
            text::TAGGED,
        );
    }
    let listed: BTreeSet<ObjectId> = r
        .new
        .objects
        .values()
        .filter(|o| graph::type_name(o) == Some(b"Page"))
        .filter_map(graph::dict)
        .filter_map(|page| graph::ref_array(r.new, page.get(b"Annots").ok()))
        .flatten()
        .collect();
    // Existing elements whose kids only grew with new elements (or lost removed annotations).
    for (id, new) in &r.new.objects {
        let Some(old) = r.old.objects.get(id) else {
            continue;
        };
        let (Some(o), Some(n)) = (graph::dict(old), graph::dict(new)) else {
            continue;
        };
        let element = id == root || graph::type_name(old) == Some(b"StructElem");
        let may_change: &[&[u8]] = if id == root { ROOT_KEYS } else { &[b"K"] };
        if !element || graph::same(r.pdf, old, new) || !graph::dicts_equal_except(o, n, may_change)
        {
            continue;
        }
        let kids = |d: &lopdf::Dictionary| -> Vec<Object> {
            match d.get(b"K") {
                Ok(Object::Array(items)) => items.clone(),
                Ok(single) => vec![single.clone()],
                Err(_) => Vec::new(),
            }
        };
        // References to annotations taken off their page go with them.
        let removed = |k: &Object| match k {
            Object::Dictionary(objr) => objr
                .get(b"Obj")
                .and_then(Object::as_reference)
                .is_ok_and(|a| !listed.contains(&a) && graph::is_annotation(r.old, a)),
            _ => false,
        };
        let before: Vec<Object> = kids(o).into_iter().filter(|k| !removed(k)).collect();
        let after = kids(n);
        let grew = after.len() >= before.len() && after[..before.len()] == before[..];
        // A new element, or a direct object reference to a new annotation.
        let new =
            |id: lopdf::Result<lopdf::ObjectId>| id.is_ok_and(|k| !r.old.objects.contains_key(&k));
        let added_new = after[before.len().min(after.len())..]
            .iter()
            .all(|k| match k {
                Object::Dictionary(objr) => new(objr.get(b"Obj").and_then(Object::as_reference)),
                other => new(other.as_reference()),
            });
        if grew && added_new {
            v.approve(r.old, *id, approval(level, text::TAGGED, None));
            for kid in &after[before.len()..] {
                r.approve_new(v, kid, level, text::TAGGED);
            }
        }
    }
}
