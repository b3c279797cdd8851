//! The reference graph of one revision: who uses an object (and by which key), and which
//! objects a value pulls in that did not exist when the document was signed. Every walk has
//! a visited set and a bound, so a hostile file (a field listing itself in /Kids, a binary
//! tree of forms) costs at most one visit per object.

use std::collections::{BTreeMap, BTreeSet};

use crate::pdf::read::stream_data;
use lopdf::{Dictionary, Document, Object, ObjectId};

/// Where a reference sits: the object holding it (`None` for the trailer) and the key path
/// inside that object (`/AP/N`, `/Annots[]`; array positions are not distinguished).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Usage {
    pub holder: Option<ObjectId>,
    pub path: String,
}

impl Usage {
    pub fn at(holder: Option<ObjectId>, path: &str) -> Self {
        Usage {
            holder,
            path: path.to_owned(),
        }
    }
}

/// Back-pointers (a widget's page, a node's parent) say where an object sits, not what it
/// shows: they are not usages.
const BACK_POINTERS: &[&[u8]] = &[b"P", b"Parent"];

/// Every usage of every object reachable from the trailer of `doc`.
pub fn usages(doc: &Document) -> BTreeMap<ObjectId, BTreeSet<Usage>> {
    let mut out: BTreeMap<ObjectId, BTreeSet<Usage>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut queue = Vec::new();
    let mut record = |holder: Option<ObjectId>, object: &Object, queue: &mut Vec<ObjectId>| {
        let mut refs = Vec::new();
        refs_with_paths(object, &mut String::new(), &mut refs);
        for (id, path) in refs {
            out.entry(id).or_default().insert(Usage { holder, path });
            queue.push(id);
        }
    };
    record(None, &Object::Dictionary(doc.trailer.clone()), &mut queue);
    while let Some(id) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(object) = doc.objects.get(&id) {
            record(Some(id), object, &mut queue);
        }
    }
    out
}

fn refs_with_paths(object: &Object, path: &mut String, out: &mut Vec<(ObjectId, String)>) {
    match object {
        Object::Reference(id) => out.push((*id, path.clone())),
        Object::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            items.iter().for_each(|i| refs_with_paths(i, path, out));
            path.truncate(len);
        }
        Object::Dictionary(d) => dict_refs(d, path, out),
        Object::Stream(s) => dict_refs(&s.dict, path, out),
        _ => {}
    }
}

fn dict_refs(d: &Dictionary, path: &mut String, out: &mut Vec<(ObjectId, String)>) {
    for (key, value) in d.iter() {
        if BACK_POINTERS.contains(&key.as_slice()) {
            continue;
        }
        let len = path.len();
        path.push('/');
        path.push_str(&String::from_utf8_lossy(key));
        refs_with_paths(value, path, out);
        path.truncate(len);
    }
}

/// Objects reachable from `value` in `new` that did not exist in `old`, following only
/// through such new objects (what a later update brought along with `value`).
pub fn new_dependencies(old: &Document, new: &Document, value: &Object) -> Vec<ObjectId> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queue = Vec::new();
    collect_refs(value, &mut queue);
    while let Some(id) = queue.pop() {
        if old.objects.contains_key(&id) || !seen.insert(id) {
            continue;
        }
        if let Some(object) = new.objects.get(&id) {
            found.push(id);
            collect_refs(object, &mut queue);
        }
    }
    found
}

/// Objects of `doc` reachable from its trailer.
pub fn reachable(doc: &Document) -> BTreeSet<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut queue = Vec::new();
    collect_refs(&Object::Dictionary(doc.trailer.clone()), &mut queue);
    while let Some(id) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(object) = doc.objects.get(&id) {
            collect_refs(object, &mut queue);
        }
    }
    seen
}

pub fn collect_refs(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Object::Dictionary(d) => d.iter().for_each(|(_, v)| collect_refs(v, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, v)| collect_refs(v, out)),
        _ => {}
    }
}

pub fn catalog_id(doc: &Document) -> Option<ObjectId> {
    doc.trailer.get(b"Root").and_then(Object::as_reference).ok()
}

pub fn dict(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

pub fn name<'a>(d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get(key).and_then(Object::as_name).ok()
}

/// An annotation of `doc` (it has /Subtype and /Rect, /Type being optional).
pub fn is_annotation(doc: &Document, id: ObjectId) -> bool {
    doc.objects
        .get(&id)
        .and_then(dict)
        .is_some_and(|d| d.has(b"Subtype") && d.has(b"Rect"))
}

pub fn type_name(object: &Object) -> Option<&[u8]> {
    name(dict(object)?, b"Type")
}

/// Follows one reference; direct values are returned as they are.
pub fn resolve<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Object> {
    match value {
        Object::Reference(id) => doc.objects.get(id),
        other => Some(other),
    }
}

pub fn resolve_dict<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Dictionary> {
    resolve(doc, value).and_then(dict)
}

/// Equal as written, except where a stream's data sits in `pdf` (the same data at the same
/// place is not read again).
pub fn same(pdf: &[u8], a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => {
            x.dict == y.dict
                && ((x.start_position.is_some() && x.start_position == y.start_position)
                    || stream_data(pdf, x) == stream_data(pdf, y))
        }
        _ => a == b,
    }
}

pub fn dicts_equal_except(b: &Dictionary, a: &Dictionary, keys: &[&[u8]]) -> bool {
    let relevant = |d: &Dictionary| -> BTreeMap<Vec<u8>, Object> {
        d.iter()
            .filter(|(k, _)| !keys.contains(&k.as_slice()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    relevant(b) == relevant(a)
}

/// The references of an array (direct or indirect); `None` when it is not an array of
/// references.
pub fn ref_array(doc: &Document, value: Option<&Object>) -> Option<Vec<ObjectId>> {
    let Some(value) = value else {
        return Some(Vec::new());
    };
    resolve(doc, value)?
        .as_array()
        .ok()?
        .iter()
        .map(|item| item.as_reference().ok())
        .collect()
}
