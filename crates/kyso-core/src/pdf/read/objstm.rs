//! Objects stored in object streams (ISO 32000-2 §7.5.7), expanded here rather than by lopdf:
//! after decryption, within the inflation budget, and with the same nesting check as the file.

use std::collections::BTreeSet;

use lopdf::xref::XrefEntry;
use lopdf::{Document, Object, ObjectStream, Stream};

use super::{lex, Budget};
use crate::error::Result;

/// Adds the objects of the document's object streams; returns warnings about streams that
/// could not be read. Each object comes from the stream its xref entry names; after a repair
/// (`repaired`) every object stream is read, and objects without such an entry are taken
/// from them unless written outside them.
pub fn expand(
    doc: &mut Document,
    pdf: &[u8],
    repaired: bool,
    budget: &mut Budget,
) -> Result<Vec<String>> {
    let mut wanted: BTreeSet<u32> = doc
        .reference_table
        .entries
        .values()
        .filter_map(|entry| match *entry {
            XrefEntry::Compressed { container, .. } => Some(container),
            _ => None,
        })
        .collect();
    if repaired {
        for (id, object) in &doc.objects {
            if matches!(object, Object::Stream(s) if s.dict.has_type(b"ObjStm")) {
                wanted.insert(id.0);
            }
        }
    }
    let mut warnings = Vec::new();
    for container in wanted {
        budget.deadline.check()?;
        let Some(Object::Stream(stream)) = doc.objects.get(&(container, 0)) else {
            continue;
        };
        let Some(data) = content(stream, pdf, budget)? else {
            warnings.push(format!(
                "object stream {container} 0 R cannot be decoded; its objects are missing"
            ));
            continue;
        };
        lex::check_nesting(&data, budget.limits.max_nesting)?;
        let mut dict = stream.dict.clone();
        dict.remove(b"Filter");
        dict.remove(b"DecodeParms");
        let Ok(parsed) = ObjectStream::new(&mut Stream::new(dict, data)) else {
            warnings.push(format!("object stream {container} 0 R is damaged"));
            continue;
        };
        for (id, object) in parsed.objects {
            let placed = matches!(
                doc.reference_table.get(id.0),
                Some(XrefEntry::Compressed { container: c, .. }) if *c == container
            );
            if placed {
                doc.objects.insert(id, object);
            } else if repaired {
                doc.objects.entry(id).or_insert(object);
            }
        }
    }
    Ok(warnings)
}

/// The stream's decoded bytes: unfiltered, or Flate (with predictors, as lopdf decodes them)
/// after its inflated size was counted against the budget.
fn content(stream: &Stream, pdf: &[u8], budget: &mut Budget) -> Result<Option<Vec<u8>>> {
    let raw = super::stream_data(pdf, stream);
    let filters = stream.filters().unwrap_or_default();
    match filters.as_slice() {
        [] => Ok(Some(raw.to_vec())),
        [b"FlateDecode"] => {
            let Some(inflated) = budget.inflate(raw)? else {
                return Ok(None);
            };
            if stream.dict.has(b"DecodeParms") {
                let mut copy = Stream::new(stream.dict.clone(), raw.to_vec());
                copy.start_position = None;
                Ok(copy.decompressed_content().ok())
            } else {
                Ok(Some(inflated))
            }
        }
        _ => Ok(None),
    }
}
