//! The bytes of an object's newest definition as the file wrote them, so an update can
//! rewrite it token for token (see `syntax`): from the object's offset for a plain object,
//! from the decompressed object stream for a compressed one (ISO 32000-1 §7.5.7).

use lopdf::xref::XrefEntry;

use lopdf::{Document, Object, ObjectId, Stream};

use crate::error::{Error, Result};
use crate::pdf::syntax;
use crate::pdf::update::Update;

/// Reads objects of `pdf`, located through lopdf's merged cross-reference table (newest
/// revision first, object streams and hybrid sections included).
pub(crate) struct Original<'a> {
    pub pdf: &'a [u8],
    pub doc: &'a Document,
}

impl<'a> Original<'a> {
    pub fn new(pdf: &'a [u8], doc: &'a Document) -> Self {
        Self { pdf, doc }
    }

    /// The value of object `id` — a dictionary or array, never a stream — as written.
    pub fn object(&self, id: ObjectId) -> Result<Vec<u8>> {
        let missing = || Error::PdfMalformed(format!("object {} {} cannot be read", id.0, id.1));
        let (src, start) = match self.doc.reference_table.get(id.0) {
            Some(XrefEntry::Normal { offset, .. }) => (
                self.pdf,
                body_start(self.pdf, *offset as usize, id).ok_or_else(missing)?,
            ),
            Some(XrefEntry::Compressed { container, index }) => {
                let stream = self
                    .doc
                    .get_object((*container, 0))
                    .and_then(Object::as_stream)
                    .map_err(|_| missing())?;
                return compressed(self.pdf, stream, id.0, Some(*index)).ok_or_else(missing);
            }
            // lopdf reads a hybrid file's /XRefStm only on the newest trailer, and only when
            // it has /Prev, yet loads every object of the object streams it finds: look the
            // object up where lopdf found it, so both agree on which definition is current.
            None => {
                return self
                    .doc
                    .objects
                    .values()
                    .filter_map(|o| o.as_stream().ok())
                    .filter(|s| s.dict.has_type(b"ObjStm"))
                    .find_map(|s| compressed(self.pdf, s, id.0, None))
                    .ok_or_else(missing);
            }
            _ => return Err(missing()),
        };
        let end = syntax::skip_value(src, start)?;
        if syntax::token(src, syntax::skip_space(src, end)) == b"stream" {
            return Err(Error::PdfMalformed(format!(
                "object {} is a stream where a dictionary was expected",
                id.0
            )));
        }
        src.get(start..end).map(<[u8]>::to_vec).ok_or_else(missing)
    }

    /// The value of `key` in the dictionary `dict`, with one indirect reference followed:
    /// the bytes as written and, when it was a reference, the object it named.
    pub fn resolve(&self, dict: &[u8], key: &[u8]) -> Result<Option<(Vec<u8>, Option<ObjectId>)>> {
        let Some(value) = syntax::get(dict, key)? else {
            return Ok(None);
        };
        Ok(Some(match syntax::as_reference(value) {
            Some(id) => (self.object(id)?, Some(id)),
            None => (value.to_vec(), None),
        }))
    }

    /// `dict` with `item` appended to the array under `key` (/Annots, /Fields, /Kids). An
    /// indirect array is rewritten as its own object in `update` and `dict` comes back as it
    /// was; a missing (or non-array, or a reference to a non-array) value becomes `[item]`.
    pub fn append(
        &self,
        update: &mut Update,
        dict: &[u8],
        key: &[u8],
        item: ObjectId,
    ) -> Result<Vec<u8>> {
        let item = reference(item);
        match self.resolve(dict, key)? {
            Some((array, Some(array_id))) if array.starts_with(b"[") => {
                update.put_raw(array_id, syntax::push(&array, &item)?);
                Ok(dict.to_vec())
            }
            Some((array, None)) if array.starts_with(b"[") => {
                syntax::set(dict, key, &syntax::push(&array, &item)?)
            }
            _ => syntax::set(dict, key, &[b"[", item.as_slice(), b"]"].concat()),
        }
    }
}

/// An object stream's decompressed content and where its objects start (/First).
fn unpacked(pdf: &[u8], stream: &Stream) -> Option<(Vec<u8>, usize)> {
    let content = crate::pdf::read::decoded(pdf, stream)?;
    let first = usize::try_from(stream.dict.get(b"First").and_then(Object::as_i64).ok()?).ok()?;
    Some((content, first))
}

/// `N G R`.
pub(crate) fn reference(id: ObjectId) -> Vec<u8> {
    format!("{} {} R", id.0, id.1).into_bytes()
}

/// Where the value of plain object `id` starts: after its `N G obj` header at `offset`.
fn body_start(pdf: &[u8], offset: usize, id: ObjectId) -> Option<usize> {
    let (number, end) = syntax::integer(pdf, offset)?;
    let (generation, end) = syntax::integer(pdf, end)?;
    let keyword = syntax::skip_space(pdf, end);
    (number == u64::from(id.0)
        && generation == u64::from(id.1)
        && syntax::token(pdf, keyword) == b"obj")
        .then(|| syntax::skip_space(pdf, keyword + 3))
}

/// The bytes of object `number` in the object stream `stream`, `index` being its place there
/// if known.
fn compressed(pdf: &[u8], stream: &Stream, number: u32, index: Option<u16>) -> Option<Vec<u8>> {
    let (content, first) = unpacked(pdf, stream)?;
    let start = compressed_start(&content, first, number, index)?;
    let end = syntax::skip_value(&content, start).ok()?;
    content.get(start..end).map(<[u8]>::to_vec)
}

/// Where object `number` starts in a decompressed object stream: its header holds pairs of
/// object number and offset relative to `/First`; `index` is the pair the xref names.
fn compressed_start(
    content: &[u8],
    first: usize,
    number: u32,
    index: Option<u16>,
) -> Option<usize> {
    let pairs = pairs(content.get(..first)?);
    let offset = index
        .and_then(|i| pairs.get(usize::from(i)))
        .filter(|(n, _)| *n == u64::from(number))
        .or_else(|| pairs.iter().find(|(n, _)| *n == u64::from(number)))?
        .1;
    let start = first.checked_add(usize::try_from(offset).ok()?)?;
    Some(syntax::skip_space(content, start))
}

/// The (object number, offset) pairs of an object stream's header.
fn pairs(header: &[u8]) -> Vec<(u64, u64)> {
    let mut pos = 0;
    let mut pairs = Vec::new();
    while let Some((n, end)) = syntax::integer(header, pos) {
        let Some((offset, end)) = syntax::integer(header, end) else {
            break;
        };
        pairs.push((n, offset));
        pos = end;
    }
    pairs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A file whose page lives in an object stream and whose catalog was redefined by a
    /// later revision.
    fn two_revisions() -> Vec<u8> {
        let page = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595.303937007874 841.889763779528]>>";
        let pages = b"<</Type /Pages /Kids [3 0 R] /Count 1>>";
        let header = format!("2 0 3 {} ", pages.len() + 1);
        let objstm = [header.as_bytes(), pages, b"\n", page].concat();
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let catalog_at = pdf.len();
        pdf.extend_from_slice(b"1 0 obj\n<</Type/Catalog/Pages 2 0 R/Old true>>\nendobj\n");
        let stm_at = pdf.len();
        pdf.extend_from_slice(
            format!(
                "4 0 obj\n<</Type/ObjStm/N 2/First {}/Length {}>>stream\n",
                header.len(),
                objstm.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&objstm);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let xref_at = pdf.len();
        let mut entries = Vec::new();
        for (kind, a, b) in [
            (0u8, 0u32, 255u8),
            (1, catalog_at as u32, 0),
            (2, 4, 0),
            (2, 4, 1),
            (1, stm_at as u32, 0),
        ] {
            entries.push(kind);
            entries.extend_from_slice(&a.to_be_bytes());
            entries.push(b);
        }
        entries.extend_from_slice(&[1]);
        entries.extend_from_slice(&(xref_at as u32).to_be_bytes());
        entries.push(0);
        pdf.extend_from_slice(
            format!(
                "5 0 obj\n<</Type/XRef/Size 6/W[1 4 1]/Root 1 0 R/Length {}>>stream\n",
                entries.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&entries);
        pdf.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
        // A second revision redefines the catalog with a classic section.
        let new_catalog_at = pdf.len();
        pdf.extend_from_slice(
            b"1 0 obj %new\n<< /Type /Catalog /Pages 2 0 R /New (1.50) >>\nendobj\n",
        );
        let xref2_at = pdf.len();
        pdf.extend_from_slice(
            format!(
                "xref\n1 1\n{new_catalog_at:010} 00000 n\r\ntrailer\n<</Size 6/Root 1 0 R/Prev {xref_at}>>\nstartxref\n{xref2_at}\n%%EOF\n"
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn reads_the_newest_definition_as_written() {
        let pdf = two_revisions();
        let doc = crate::pdf::read::writable(&pdf, &Default::default()).unwrap();
        let original = Original::new(&pdf, &doc);
        assert_eq!(
            original.object((1, 0)).unwrap(),
            b"<< /Type /Catalog /Pages 2 0 R /New (1.50) >>"
        );
        assert_eq!(
            original.object((3, 0)).unwrap(),
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595.303937007874 841.889763779528]>>"
        );
        assert_eq!(
            original.object((2, 0)).unwrap(),
            b"<</Type /Pages /Kids [3 0 R] /Count 1>>"
        );
        let (kids, id) = original
            .resolve(&original.object((2, 0)).unwrap(), b"Kids")
            .unwrap()
            .unwrap();
        assert_eq!((kids.as_slice(), id), (&b"[3 0 R]"[..], None));
        assert!(original.object((4, 0)).is_err(), "a stream is not editable");
        assert!(original.object((9, 0)).is_err());
    }

    /// A classic-xref file of `(number, generation, body)` objects; object 1 is the catalog.
    pub(crate) fn classic(objects: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut xref = String::from("xref\n0 1\n0000000000 65535 f\r\n");
        for (number, generation, body) in objects {
            xref.push_str(&format!(
                "{number} 1\n{:010} {generation:05} n\r\n",
                pdf.len()
            ));
            pdf.extend_from_slice(
                format!("{number} {generation} obj\n{body}\nendobj\n").as_bytes(),
            );
        }
        let at = pdf.len();
        let size = objects.iter().map(|o| o.0).max().unwrap_or(0) + 1;
        pdf.extend_from_slice(xref.as_bytes());
        pdf.extend_from_slice(
            format!("trailer\n<</Size {size}/Root 1 0 R>>\nstartxref\n{at}\n%%EOF\n").as_bytes(),
        );
        pdf
    }

    #[test]
    fn indirect_arrays_are_edited_in_place_and_generations_kept() {
        let pdf = classic(&[
            (1, 0, "<</Type/Catalog/Pages 2 0 R>>"),
            (2, 0, "<</Type/Pages/Kids[3 0 R]/Count 1>>"),
            (
                3,
                0,
                "<</Type/Page/Parent 2 0 R/Annots 4 3 R/MediaBox[0 0 .5 12.]>>",
            ),
            (4, 3, "[ 7 0 R ]"),
        ]);
        let doc = crate::pdf::read::writable(&pdf, &Default::default()).unwrap();
        let original = Original::new(&pdf, &doc);
        let mut update = Update::new(&doc);
        let page = original.object((3, 0)).unwrap();
        let widget = update.alloc();
        let edited = original
            .append(&mut update, &page, b"Annots", widget)
            .unwrap();
        assert_eq!(edited, page, "the page keeps its indirect /Annots");
        let missing = original
            .append(&mut update, &page, b"Kids", widget)
            .unwrap();
        assert!(
            missing.ends_with(b"12.]/Kids [5 0 R]>>"),
            "{}",
            String::from_utf8_lossy(&missing)
        );
        let out = update.write(&pdf, &doc).unwrap().bytes;
        let tail = String::from_utf8_lossy(&out[pdf.len()..]).into_owned();
        assert!(tail.contains("4 3 obj\n[ 7 0 R  5 0 R]\nendobj"), "{tail}");
        assert!(tail.contains(" 00003 n\r\n"), "{tail}");

        let doc = crate::pdf::read::writable(&out, &Default::default()).unwrap();
        let again = Original::new(&out, &doc);
        assert_eq!(again.object((4, 3)).unwrap(), b"[ 7 0 R  5 0 R]");
        assert_eq!(again.object((3, 0)).unwrap(), page);
    }

    /// What lopdf makes of a hybrid file: the object stream is known, the objects in it have
    /// no cross-reference entry (they were listed only in an /XRefStm it did not read).
    #[test]
    fn objects_found_only_in_an_object_stream_are_read_too() {
        let objects = "<</Type/Pages/Kids[3 0 R]/Count 1>> <</Type/Page/Parent 2 0 R/Rotate 90>>";
        let header = "2 0 3 36 ";
        let stream = format!(
            "<</Type/ObjStm/N 2/First {}/Length {}>>stream\n{header}{objects}\nendstream",
            header.len(),
            header.len() + objects.len()
        );
        let pdf = classic(&[(1, 0, "<</Type/Catalog/Pages 2 0 R>>"), (4, 0, &stream)]);
        let doc = crate::pdf::read::writable(&pdf, &Default::default()).unwrap();
        assert!(doc.reference_table.get(3).is_none());
        let original = Original::new(&pdf, &doc);
        assert_eq!(
            original.object((3, 0)).unwrap(),
            b"<</Type/Page/Parent 2 0 R/Rotate 90>>"
        );
        assert!(original.object((5, 0)).is_err());
    }

    /// Appends an object stream `container` holding `objects`, then an xref stream that lists
    /// it and them (type 2), with /Prev `prev`; returns the xref stream's offset.
    fn append_objstm(
        pdf: &mut Vec<u8>,
        container: u32,
        objects: &[(u32, &str)],
        prev: Option<usize>,
    ) -> usize {
        let mut header = String::new();
        let mut body = String::new();
        for (number, text) in objects {
            header.push_str(&format!("{number} {} ", body.len()));
            body.push_str(text);
            body.push(' ');
        }
        let stm_at = pdf.len();
        pdf.extend_from_slice(
            format!(
                "{container} 0 obj\n<</Type/ObjStm/N {}/First {}/Length {}>>stream\n{header}{body}\nendstream\nendobj\n",
                objects.len(),
                header.len(),
                header.len() + body.len()
            )
            .as_bytes(),
        );
        let xref_at = pdf.len();
        let mut index = format!("{container} 2 ");
        let mut data = vec![1u8];
        data.extend_from_slice(&(stm_at as u32).to_be_bytes());
        data.push(0);
        data.push(1);
        data.extend_from_slice(&(xref_at as u32).to_be_bytes());
        data.push(0);
        for (i, (number, _)) in objects.iter().enumerate() {
            index.push_str(&format!("{number} 1 "));
            data.push(2);
            data.extend_from_slice(&container.to_be_bytes());
            data.push(i as u8);
        }
        let prev = prev.map(|p| format!("/Prev {p}")).unwrap_or_default();
        pdf.extend_from_slice(
            format!(
                "{} 0 obj\n<</Type/XRef/Size 20/W[1 4 1]/Index[{index}]/Root 1 0 R{prev}/Length {}>>stream\n",
                container + 1,
                data.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
        xref_at
    }

    /// lopdf alone would keep the first object stream's page (container 4) over the newer one
    /// (container 10), which the newest xref section names; the reader must not.
    #[test]
    fn the_newest_object_stream_wins() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let first = append_objstm(
            &mut pdf,
            4,
            &[
                (1, "<</Type/Catalog/Pages 2 0 R>>"),
                (2, "<</Type/Pages/Kids[3 0 R]/Count 1>>"),
                (3, "<</Type/Page/Parent 2 0 R/Rotate 0>>"),
            ],
            None,
        );
        append_objstm(
            &mut pdf,
            10,
            &[(3, "<</Type/Page/Parent 2 0 R/Rotate 90>>")],
            Some(first),
        );
        let doc = crate::pdf::read::writable(&pdf, &Default::default()).unwrap();
        let page = doc.get_dictionary((3, 0)).unwrap();
        assert_eq!(page.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
        assert_eq!(
            Original::new(&pdf, &doc).object((3, 0)).unwrap(),
            b"<</Type/Page/Parent 2 0 R/Rotate 90>>"
        );
    }
}
