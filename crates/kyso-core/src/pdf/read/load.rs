//! lopdf's reading, object by object. `Document::load_mem` parses each object through a
//! cursor over the whole file whose line counting (nom_locate) walks every byte before the
//! object, which makes reading quadratic in the object count (20 000 tiny objects: 12 s). Here
//! lopdf's public `Reader::get_object` parses each object from a slice that starts at it, over
//! the cross-reference entries `xref` has already read and checked, so reading is linear.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use lopdf::xref::{Xref, XrefEntry, XrefType};
use lopdf::{Dictionary, Document, Object, ObjectId, Reader, Stream};

use super::lex::Scan;

/// Where the newest trailer's entries are.
pub enum TrailerAt {
    /// A classic `trailer` dictionary (its bytes).
    Dictionary(Range<usize>),
    /// An xref stream (the offset of its object).
    Stream(usize),
    /// None to read (a repaired file: the trailer is adopted afterwards).
    None,
}

/// Bytes lopdf must see changed: the names to mask (`/Encrypt`, `/ObjStm`, at their slash)
/// and the hexadecimal strings to read as empty (from `<` to `>`), both in file order.
#[derive(Default)]
pub struct Edits<'a> {
    pub masks: &'a [usize],
    pub blanks: &'a [Range<usize>],
}

impl Edits<'_> {
    /// Whether an edit falls inside `span`.
    fn touch(&self, span: &Range<usize>) -> bool {
        let first_mask = self.masks.partition_point(|&m| m < span.start);
        let first_blank = self.blanks.partition_point(|b| b.end <= span.start);
        self.masks.get(first_mask).is_some_and(|&m| m < span.end)
            || self
                .blanks
                .get(first_blank)
                .is_some_and(|b| b.start < span.end)
    }

    /// A copy of `bytes`, which start at offset `at` of the file, with the edits inside it.
    pub fn apply(&self, bytes: &[u8], at: usize) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let len = out.len();
        let inside = |offset: usize| offset.checked_sub(at).filter(|&o| o < len);
        for &mask in self.masks {
            let Some(o) = inside(mask) else { continue };
            let name = if out[o..].starts_with(b"/Encrypt") {
                &b"/Encrypt"[..]
            } else {
                b"/ObjStm"
            };
            if let Some(last) = out.get_mut(o + name.len() - 1) {
                *last = b'_';
            }
        }
        for blank in self.blanks {
            // `<` stays, `>` follows it, spaces keep every offset.
            let (Some(open), Some(close)) = (inside(blank.start), inside(blank.end - 1)) else {
                continue;
            };
            if close > open {
                out[open + 1] = b'>';
                out[open + 2..=close].fill(b' ');
            }
        }
        out
    }
}

/// Reads the objects `entries` (newest definition first) locates in `bytes`; objects in object
/// streams are only recorded in the reference table (`objstm` expands them). Stream data is
/// not read: each stream keeps the offset and length of its data (`super::stream_data`).
/// Past `deadline` it stops (the caller tells that from damage).
pub fn load(
    bytes: &[u8],
    scan: &Scan,
    edits: &Edits<'_>,
    entries: impl IntoIterator<Item = (u32, XrefEntry)>,
    trailer: TrailerAt,
    deadline: &super::Deadline,
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
    // Streams whose /Length is a reference, measured once every object is known.
    let mut pending = Vec::new();
    for (i, (&id, entry)) in xref.entries.iter().enumerate() {
        deadline.every(i)?;
        if let XrefEntry::Normal { offset, generation } = *entry {
            let id = (id, generation);
            let Some((object, scanned)) = read_object(&mut reader, bytes, scan, edits, id, offset)
            else {
                continue;
            };
            if let Some(scanned) = scanned {
                pending.push((id, scanned));
            }
            objects.insert(id, object);
        }
    }
    let mut doc = Document::new();
    doc.version = String::from_utf8_lossy(version).trim().to_owned();
    doc.objects = objects;
    for (i, (id, scanned)) in pending.into_iter().enumerate() {
        deadline.every(i)?;
        measure(&mut doc, bytes, id, scanned);
    }
    doc.trailer = match trailer {
        TrailerAt::Dictionary(range) => dictionary(bytes, edits, range)?,
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

/// Object `id` written at `offset`. Only what lopdf must parse is given to it: a stream's
/// dictionary (its data stays in the file: `start_position` is where it begins, `/Length`
/// how long it is, as the scan found), and an object that needs edits is copied alone. With
/// the object, the length of a stream whose /Length is a reference, as the scan found it.
fn read_object<'a>(
    reader: &mut Reader<'a>,
    bytes: &'a [u8],
    scan: &Scan,
    edits: &Edits<'_>,
    id: ObjectId,
    offset: u32,
) -> Option<(Object, Option<usize>)> {
    let offset = usize::try_from(offset).ok().filter(|&o| o < bytes.len())?;
    let start = offset
        + bytes[offset..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    let Ok(index) = scan.objects.binary_search_by_key(&start, |f| f.offset) else {
        // Not where the scan saw an object begin: lopdf reads it as written, if it can.
        return match object(reader, bytes, id, offset)? {
            Object::Stream(_) => None,
            other => Some((other, None)),
        };
    };
    let found = &scan.objects[index];
    let Some(data) = &found.data else {
        let end = scan
            .objects
            .get(index + 1)
            .map_or(bytes.len(), |f| f.offset);
        if !edits.touch(&(start..end)) {
            return object(reader, bytes, id, start).map(|o| (o, None));
        }
        let copy = edits.apply(&bytes[start..end], start);
        return object(&mut self::reader(&copy), &copy, id, 0).map(|o| (o, None));
    };
    let head = bytes.get(start..data.start)?;
    let keyword = memchr::memmem::rfind(head, b"stream")?;
    let mut copy = edits.apply(&head[..keyword], start);
    copy.extend_from_slice(b"\nendobj\n");
    let Some(Object::Dictionary(mut dict)) = object(&mut self::reader(&copy), &copy, id, 0) else {
        return None;
    };
    let referenced = dict.get(b"Length").is_ok_and(|l| l.as_reference().is_ok());
    if !referenced {
        dict.set("Length", data.len() as i64);
    }
    let stream = Stream::with_position(dict, data.start);
    Some((Object::Stream(stream), referenced.then_some(data.len())))
}
/// Object `id` at `offset` (white space before it allowed), parsed from a slice starting there.
fn object<'a>(
    reader: &mut Reader<'a>,
    bytes: &'a [u8],
    id: ObjectId,
    offset: usize,
) -> Option<Object> {
    if let Some(object) = super::direct::object(bytes, id, offset) {
        return Some(object);
    }
    reader.buffer = bytes.get(offset..).filter(|rest| !rest.is_empty())?;
    reader.document.reference_table.clear();
    reader.document.reference_table.insert(
        id.0,
        XrefEntry::Normal {
            offset: 0,
            generation: id.1,
        },
    );
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.get_object(id, &mut HashSet::new())
    }))
    .ok()?
    .ok()
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

/// A dictionary written at `range`, edited, parsed by lopdf as the body of an object.
fn dictionary(
    bytes: &[u8],
    edits: &Edits<'_>,
    range: Range<usize>,
) -> std::result::Result<Dictionary, String> {
    let body = bytes.get(range.clone()).unwrap_or_default();
    let wrapped = [
        &b"0 0 obj\n"[..],
        &edits.apply(body, range.start),
        b"\nendobj\n",
    ]
    .concat();
    let mut reader = reader(&wrapped);
    match object(&mut reader, &wrapped, (0, 0), 0) {
        Some(Object::Dictionary(dict)) => Ok(dict),
        _ => Err("the trailer cannot be read".into()),
    }
}

/// Object `id` written at `offset` (not a stream), read alone.
pub fn one(bytes: &[u8], id: ObjectId, offset: usize) -> Option<Object> {
    object(&mut reader(bytes), bytes, id, offset)
}

fn reader(bytes: &[u8]) -> Reader<'_> {
    Reader {
        buffer: bytes,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    }
}

/// A stream whose /Length is a reference: its data ends there when `endstream` follows,
/// else where the scan found `endstream` (as lopdf and qpdf recover).
fn measure(doc: &mut Document, bytes: &[u8], id: ObjectId, scanned: usize) {
    let length = match doc.get_object(id).and_then(Object::as_stream) {
        Ok(stream) => stream
            .dict
            .get(b"Length")
            .and_then(|value| doc.dereference(value))
            .and_then(|(_, value)| value.as_i64())
            .ok()
            .and_then(|l| usize::try_from(l).ok()),
        Err(_) => return,
    };
    let Ok(Object::Stream(stream)) = doc.get_object_mut(id) else {
        return;
    };
    let Some(start) = stream.start_position else {
        return;
    };
    let length = length.filter(|&l| {
        let rest = bytes.get(start.saturating_add(l)..).unwrap_or_default();
        l <= scanned && rest.trim_ascii_start().starts_with(b"endstream")
    });
    stream.dict.set("Length", length.unwrap_or(scanned) as i64);
}
