//! lopdf's reading, object by object. `Document::load_mem` parses each object through a
//! cursor over the whole file whose line counting (nom_locate) walks every byte before the
//! object, which makes reading quadratic in the object count (20 000 tiny objects: 12 s). Here
//! lopdf's public `Reader::get_object` parses each object from a slice that starts at it, over
//! the cross-reference entries `xref` has already read and checked, so reading is linear.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use lopdf::xref::{Xref, XrefEntry, XrefType};
use lopdf::{Dictionary, Document, Object, ObjectId, Reader};

/// Where the newest trailer's entries are.
pub enum TrailerAt {
    /// A classic `trailer` dictionary (its bytes).
    Dictionary(Range<usize>),
    /// An xref stream (the offset of its object).
    Stream(usize),
    /// None to read (a repaired file: the trailer is adopted afterwards).
    None,
}

/// Reads the objects `entries` (newest definition first) locates in `bytes`; objects in object
/// streams are only recorded in the reference table (`objstm` expands them).
pub fn load(
    bytes: &[u8],
    entries: impl IntoIterator<Item = (u32, XrefEntry)>,
    trailer: TrailerAt,
) -> std::result::Result<Document, String> {
    let version = bytes
        .strip_prefix(b"%PDF-")
        .map(|rest| {
            rest.split(|&b| b == b'\r' || b == b'\n')
                .next()
                .unwrap_or(rest)
        })
        .ok_or("the file has no PDF header")?;
    let mut xref = Xref::new(0, XrefType::CrossReferenceTable);
    for (id, entry) in entries {
        xref.entries.entry(id).or_insert(entry);
    }
    let mut reader = reader(bytes);
    let mut objects = BTreeMap::new();
    // Streams whose /Length is a reference: lopdf leaves their data to be read once that
    // object is known, with its start relative to the object.
    let mut pending = Vec::new();
    for (&id, entry) in &xref.entries {
        if let XrefEntry::Normal { offset, generation } = *entry {
            let Some((object, offset)) = object(&mut reader, bytes, (id, generation), offset)
            else {
                continue;
            };
            if matches!(&object, Object::Stream(s) if s.content.is_empty() && s.start_position.is_some())
            {
                pending.push(((id, generation), offset));
            }
            objects.insert((id, generation), object);
        }
    }
    let mut doc = Document::new();
    doc.version = String::from_utf8_lossy(version).trim().to_owned();
    doc.objects = objects;
    for (id, offset) in pending {
        stream_data(&mut doc, bytes, id, offset);
    }
    doc.trailer = match trailer {
        TrailerAt::Dictionary(range) => dictionary(bytes, range)?,
        TrailerAt::Stream(offset) => match doc.objects.get(&object_at(bytes, offset)?) {
            Some(Object::Stream(s)) => s.dict.clone(),
            _ => return Err("the xref stream cannot be read".into()),
        },
        TrailerAt::None => Dictionary::new(),
    };
    doc.trailer.remove(b"Prev");
    xref.size = xref.max_id().saturating_add(1);
    doc.max_id = xref.max_id();
    doc.reference_table = xref;
    Ok(doc)
}

/// Object `id` at `offset` (white space before it allowed), parsed from a slice starting there;
/// also the absolute offset of that slice.
fn object<'a>(
    reader: &mut Reader<'a>,
    bytes: &'a [u8],
    id: ObjectId,
    offset: u32,
) -> Option<(Object, usize)> {
    let offset = usize::try_from(offset).ok().filter(|&o| o < bytes.len())?;
    reader.buffer = &bytes[offset..];
    reader.document.reference_table.clear();
    reader.document.reference_table.insert(
        id.0,
        XrefEntry::Normal {
            offset: 0,
            generation: id.1,
        },
    );
    let object = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.get_object(id, &mut HashSet::new())
    }))
    .ok()?
    .ok()?;
    Some((object, offset))
}

/// The `N G` of the object written at `offset`.
fn object_at(bytes: &[u8], offset: usize) -> std::result::Result<ObjectId, String> {
    let mut lexer = super::lex::Lexer::new(bytes, offset);
    let mut number = || match lexer.next_token() {
        Some((_, super::lex::Token::Word(w))) => std::str::from_utf8(w).ok()?.parse::<u32>().ok(),
        _ => None,
    };
    match (number(), number()) {
        (Some(n), Some(g)) => Ok((n, u16::try_from(g).unwrap_or(u16::MAX))),
        _ => Err(format!("no object at byte {offset}")),
    }
}

/// A dictionary written at `range`, parsed by lopdf as the body of an object.
fn dictionary(bytes: &[u8], range: Range<usize>) -> std::result::Result<Dictionary, String> {
    let wrapped = [
        b"0 0 obj\n",
        bytes.get(range).unwrap_or_default(),
        b"\nendobj\n",
    ]
    .concat();
    let mut reader = reader(&wrapped);
    match object(&mut reader, &wrapped, (0, 0), 0) {
        Some((Object::Dictionary(dict), _)) => Ok(dict),
        _ => Err("the trailer cannot be read".into()),
    }
}

fn reader(bytes: &[u8]) -> Reader<'_> {
    Reader {
        buffer: bytes,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    }
}

/// Fills in the data of a stream whose /Length is a reference, as lopdf does once all objects
/// are read; a stream whose length cannot be found stays empty.
fn stream_data(doc: &mut Document, bytes: &[u8], id: ObjectId, offset: usize) {
    let length = match doc.get_object(id).and_then(Object::as_stream) {
        Ok(stream) => stream
            .dict
            .get(b"Length")
            .and_then(|value| doc.dereference(value))
            .and_then(|(_, value)| value.as_i64()),
        Err(_) => return,
    };
    let Ok(Object::Stream(stream)) = doc.get_object_mut(id) else {
        return;
    };
    let (Ok(length), Some(start)) = (length, stream.start_position) else {
        return;
    };
    let start = offset.saturating_add(start);
    let data = usize::try_from(length)
        .ok()
        .and_then(|length| bytes.get(start..start.checked_add(length)?));
    if let Some(data) = data {
        stream.set_content(data.to_vec());
        stream.start_position = Some(start);
    }
}
