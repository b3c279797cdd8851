//! An incremental update (ISO 32000-1 §7.5.6): new and changed objects appended after the
//! original bytes, with a cross-reference section of the same kind as the one it follows.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{Document, Object, ObjectId};

use crate::error::{Error, Result};
use crate::pdf::object;

/// Objects to append, by number, with their generation (a rewritten object keeps its own).
/// Raw entries are pre-serialised bodies: the signature dictionary, whose placeholders we must
/// locate afterwards, and existing objects edited from their original bytes.
pub(crate) struct Update {
    next_id: u32,
    objects: BTreeMap<u32, (u16, Body)>,
}

enum Body {
    Object(Object),
    Raw(Vec<u8>),
}

/// The appended bytes, where each raw body landed in the whole file, and what the update added.
pub(crate) struct Written {
    pub bytes: Vec<u8>,
    pub raw_offsets: BTreeMap<u32, usize>,
    pub revision: Revision,
}

/// The objects an update added or rewrote, each with the offset of its `N G obj`, a raw body
/// as `None` (read back from the file once its placeholders are filled), and the trailer's new
/// /Size: what brings the document the update was made from up to date.
pub(crate) struct Revision {
    objects: Vec<(ObjectId, usize, Option<Object>)>,
    size: u32,
}

impl Revision {
    /// `doc`, read from the file this update was appended to, as `pdf` (that file with this
    /// update, placeholders filled) reads: its objects, cross-reference entries and /Size.
    pub fn apply(self, doc: &mut Document, pdf: &[u8]) -> Result<()> {
        for (id, offset, object) in self.objects {
            let object = match object {
                Some(object) => object,
                None => crate::pdf::read::object_at(pdf, id, offset).ok_or_else(|| {
                    Error::internal(format!("object {} of the update cannot be read", id.0))
                })?,
            };
            let offset =
                u32::try_from(offset).map_err(|_| Error::PdfMalformed("file too large".into()))?;
            doc.objects.insert(id, object);
            doc.reference_table.insert(
                id.0,
                lopdf::xref::XrefEntry::Normal {
                    offset,
                    generation: id.1,
                },
            );
        }
        doc.trailer.set("Size", i64::from(self.size));
        doc.max_id = doc.max_id.max(self.size.saturating_sub(1));
        Ok(())
    }
}

impl Update {
    pub fn new(doc: &Document) -> Self {
        let size = doc
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        Self {
            next_id: size.max(doc.max_id + 1),
            objects: BTreeMap::new(),
        }
    }

    pub fn alloc(&mut self) -> ObjectId {
        let id = self.next_id;
        self.next_id += 1;
        (id, 0)
    }

    /// Next free object number, for code that allocates ids itself (font objects).
    pub fn next_id_mut(&mut self) -> &mut u32 {
        &mut self.next_id
    }

    pub fn put(&mut self, id: ObjectId, object: impl Into<Object>) {
        self.objects
            .insert(id.0, (id.1, Body::Object(object.into())));
    }

    pub fn put_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.objects.insert(id.0, (id.1, Body::Raw(body)));
    }

    /// Appends the update to `original`. `trailer_from` supplies /Root, /Info and /ID.
    pub fn write(mut self, original: &[u8], doc: &Document) -> Result<Written> {
        let prev = last_startxref(original)?;
        let stream_xref = !original
            .get(prev..)
            .map(|tail| tail.trim_ascii_start().starts_with(b"xref"))
            .unwrap_or(false);
        let xref_stream_id = stream_xref.then(|| self.alloc().0);

        // Room for the whole update, so that a 50 MB original is never copied twice by a
        // growing vector: the bodies (a signature's /Contents, a font) and the rest, small.
        let bodies: usize = self
            .objects
            .values()
            .map(|(_, body)| match body {
                Body::Raw(raw) => raw.len(),
                Body::Object(Object::Stream(stream)) => stream.content.len(),
                Body::Object(_) => 0,
            })
            .sum();
        let mut out = Vec::with_capacity(original.len() + bodies + 64 * 1024);
        // Copied window by window, each given back once copied (`pages`): a mapped original
        // is then not resident beside its copy.
        for window in crate::pdf::pages::windows(original) {
            out.extend_from_slice(window);
        }
        if !original.ends_with(b"\n") && !original.ends_with(b"\r") {
            out.push(b'\n');
        }
        let mut offsets = BTreeMap::new();
        let mut raw_offsets = BTreeMap::new();
        let mut added = Vec::with_capacity(self.objects.len());
        for (id, (generation, body)) in std::mem::take(&mut self.objects) {
            offsets.insert(id, (out.len(), generation));
            let at = out.len();
            let _ = writeln!(out, "{id} {generation} obj");
            let object = match body {
                Body::Object(obj) => {
                    object::write(&mut out, &obj);
                    Some(obj)
                }
                Body::Raw(raw) => {
                    raw_offsets.insert(id, out.len());
                    out.extend_from_slice(&raw);
                    None
                }
            };
            added.push(((id, generation), at, object));
            out.extend_from_slice(b"\nendobj\n");
        }

        let mut trailer = lopdf::Dictionary::new();
        trailer.set("Size", i64::from(self.next_id));
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Ok(value) = doc.trailer.get(key) {
                trailer.set(key.to_vec(), value.clone());
            }
        }
        trailer.set("Prev", prev as i64);

        let xref_start = out.len();
        match xref_stream_id {
            None => {
                out.extend_from_slice(b"xref\n");
                for (id, (offset, generation)) in &offsets {
                    // Each entry is exactly 20 bytes, EOL included (§7.5.4).
                    let _ = write!(out, "{id} 1\n{offset:010} {generation:05} n\r\n");
                }
                out.extend_from_slice(b"trailer\n");
                object::write_dict(&mut out, &trailer);
            }
            Some(xref_id) => {
                offsets.insert(xref_id, (xref_start, 0));
                let mut index = Vec::new();
                let mut data = Vec::new();
                for (id, (offset, generation)) in &offsets {
                    index.extend([Object::from(i64::from(*id)), Object::from(1)]);
                    let offset = u32::try_from(*offset)
                        .map_err(|_| Error::PdfMalformed("file too large".into()))?;
                    data.push(1u8);
                    data.extend_from_slice(&offset.to_be_bytes());
                    data.extend_from_slice(&generation.to_be_bytes());
                }
                trailer.set("Type", "XRef");
                trailer.set("W", vec![1.into(), 4.into(), 2.into()]);
                trailer.set("Index", index);
                let _ = writeln!(out, "{xref_id} 0 obj");
                let stream = Object::Stream(lopdf::Stream::new(trailer, data));
                object::write(&mut out, &stream);
                added.push(((xref_id, 0), xref_start, Some(stream)));
                out.extend_from_slice(b"\nendobj\n");
            }
        }
        let _ = write!(out, "\nstartxref\n{xref_start}\n%%EOF\n");
        Ok(Written {
            bytes: out,
            raw_offsets,
            revision: Revision {
                objects: added,
                size: self.next_id,
            },
        })
    }
}

/// The offset after the last `startxref` keyword: where the newest cross-reference section
/// starts, which the update's /Prev must point to.
pub(crate) fn last_startxref(pdf: &[u8]) -> Result<usize> {
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_start..];
    let pos = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| Error::PdfMalformed("no startxref at the end of the file".into()))?;
    let digits: String = tail[pos + 9..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_ascii_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse::<usize>()
        .ok()
        .filter(|&offset| offset < pdf.len())
        .ok_or_else(|| Error::PdfMalformed("startxref does not point into the file".into()))
}
