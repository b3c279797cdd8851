//! A correction to how the parser reads objects kept in object streams.

use std::collections::BTreeMap;

/// lopdf fills objects kept in object streams from every object stream it reads, in its own
/// order, not from the container the cross-reference names: a later revision's copy (Adobe
/// rewrites the form in a new object stream) can lose to the signed one. Re-reads each
/// compressed object from its named container, each container once. (Belongs in the parser;
/// kept here until the parser does it.)
pub fn objects_from_named_streams(doc: &mut lopdf::Document) {
    type Objects = BTreeMap<lopdf::ObjectId, lopdf::Object>;
    let compressed: Vec<(u32, u32)> = doc
        .reference_table
        .entries
        .iter()
        .filter_map(|(id, entry)| match entry {
            lopdf::xref::XrefEntry::Compressed { container, .. } => Some((*id, *container)),
            _ => None,
        })
        .collect();
    let mut containers: BTreeMap<u32, Option<Objects>> = BTreeMap::new();
    for (id, container) in compressed {
        let objects = containers.entry(container).or_insert_with(|| {
            let mut stream = doc.objects.get(&(container, 0))?.as_stream().ok()?.clone();
            lopdf::ObjectStream::new(&mut stream)
                .ok()
                .map(|s| s.objects)
        });
        if let Some((key, object)) = objects
            .as_ref()
            .and_then(|m| m.iter().find(|((n, _), _)| *n == id))
        {
            doc.objects.insert(*key, object.clone());
        }
    }
}
