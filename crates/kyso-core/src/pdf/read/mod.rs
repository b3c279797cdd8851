//! The one door through which untrusted PDF bytes become a lopdf `Document`, with the limits
//! that keep a hostile file from exhausting the process inside it. Every path that reads a PDF
//! it did not write (verification, signing, sealing, certified copies, the lookup page) goes
//! through `parse`.
//!
//! lopdf parses recursively, inflates object and xref streams without a limit and trusts the
//! cross-reference chain. So before it sees the file, `lex` walks all of it iteratively
//! (nesting, objects, trailers) and `xref` checks the chain against what the walk found; a
//! damaged chain is repaired from the walk, as qpdf does, with a warning. lopdf then reads each
//! object with `/Encrypt` and `/ObjStm` masked, so that decryption (`decrypt`) and object
//! streams (`objstm`) happen here, within the limits. The input is never copied whole: an
//! object that needs such an edit is copied alone, and stream data stays where it is.

mod decrypt;
mod direct;
mod lex;
mod load;
mod objstm;
mod xref;

use std::ops::Range;
use std::time::{Duration, Instant};

use lopdf::{Document, Object, Stream};

use crate::error::{Error, Result};

/// Limits on what one document may cost to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Deepest nesting of arrays and dictionaries; real documents stay below 20.
    pub max_nesting: usize,
    /// Most indirect objects (found in the file, declared by xref streams, or in total).
    pub max_objects: usize,
    /// Most bytes the xref and object streams of one document may inflate to, together.
    pub max_inflated_bytes: u64,
    /// Most bytes one verification may hash: the /ByteRange lengths of all its signatures
    /// together (each may cover the whole file).
    pub max_hashed_bytes: u64,
    /// Most seconds reading and verifying one document may take; checked inside every long
    /// loop of both (the scan, the objects read, each revision's comparison, …).
    pub max_verify_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nesting: 128,
            max_objects: 500_000,
            max_inflated_bytes: 64 << 20,
            // 8 × the default upload limit: eight signatures over a file of the largest size.
            max_hashed_bytes: 512 << 20,
            max_verify_seconds: 30,
        }
    }
}

/// A document as read, and what was wrong with it but could be read anyway.
pub struct Parsed {
    pub doc: Document,
    pub warnings: Vec<String>,
    /// Encrypted with an empty user password, and decrypted here.
    pub encrypted: bool,
    /// The cross-reference data was damaged and the objects were found by scanning.
    pub repaired: bool,
}

/// When reading and verifying one document must have ended (`max_verify_seconds` after it
/// began): a hostile file of 131 000 objects must not hold a worker for minutes.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    seconds: u64,
}

impl Deadline {
    pub fn new(limits: &Limits) -> Self {
        let seconds = limits.max_verify_seconds;
        let now = Instant::now();
        Deadline {
            at: now.checked_add(Duration::from_secs(seconds)).unwrap_or(now),
            seconds,
        }
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// For loops: `Err` once the time is spent, looked at every 1 024th `step` (a clock read
    /// costs more than one step of most loops).
    pub fn every(&self, step: usize) -> std::result::Result<(), String> {
        if step.is_multiple_of(1024) && self.passed() {
            return Err("the time for this verification is spent".into());
        }
        Ok(())
    }

    /// `every`, as the limit's error.
    pub fn check_every(&self, step: usize) -> Result<()> {
        self.every(step).map_err(|_| self.spent())
    }

    pub fn check(&self) -> Result<()> {
        self.check_every(0)
    }

    fn spent(&self) -> Error {
        Error::PdfTooComplex(format!(
            "reading and verifying it takes longer than {} s",
            self.seconds
        ))
    }
}

/// What is left of the limits while one document is read.
pub struct Budget {
    inflated_left: u64,
    entries_left: u64,
    limits: Limits,
    deadline: Deadline,
}

impl Budget {
    fn new(limits: &Limits, deadline: Deadline) -> Self {
        Budget {
            inflated_left: limits.max_inflated_bytes,
            entries_left: limits.max_objects as u64,
            limits: *limits,
            deadline,
        }
    }

    /// `data` inflated (as far as it is intact), counted against the budget; `None` when
    /// nothing could be inflated.
    fn inflate(&mut self, data: &[u8]) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        // Counted first, so that a bomb costs no memory.
        let limit = self.inflated_left + 1;
        let mut counter = flate2::read::ZlibDecoder::new(data).take(limit);
        let size = std::io::copy(&mut counter, &mut std::io::sink()).unwrap_or(0);
        let size = size.max(counter.get_ref().total_out());
        if size > self.inflated_left {
            return Err(Error::PdfTooComplex(format!(
                "streams inflate to more than {} MiB",
                self.limits.max_inflated_bytes >> 20
            )));
        }
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let read = flate2::read::ZlibDecoder::new(data)
            .take(size)
            .read_to_end(&mut out);
        self.inflated_left -= out.len() as u64;
        // A damaged end (a missing checksum) is common; what inflated is kept.
        Ok((read.is_ok() || !out.is_empty()).then_some(out))
    }

    /// Counts entries an xref stream declares.
    fn entries(&mut self, count: u32) -> Result<()> {
        self.entries_left = self
            .entries_left
            .checked_sub(u64::from(count))
            .ok_or_else(|| {
                Error::PdfTooComplex(format!(
                    "xref streams declare more than {} objects",
                    self.limits.max_objects
                ))
            })?;
        Ok(())
    }
}

/// Reads `pdf` within `limits`. Reaching a limit is `PdfTooComplex`; a file that is not a PDF
/// or cannot be read even by scanning for objects is `NotPdf` or `PdfMalformed`; a file that
/// needs a password is `PdfEncrypted`. Stream data stays in `pdf` (see `stream_data`), except
/// that of an encrypted file, which is decrypted into the document.
pub fn parse(pdf: &[u8], limits: &Limits) -> Result<Parsed> {
    parse_blanked(pdf, limits, &[], Deadline::new(limits))
}

/// The large `/Contents <hex>` values of `pdf` (each from its `<` to its `>`), for
/// `parse_blanked` to read as empty strings: a validator takes each signature value from the
/// file's bytes at its /ByteRange gap, where it is checked anyway, and need not decode the
/// kilobytes of each CMS twice.
pub fn signature_values(pdf: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    for pos in crate::pdf::pages::find_all(pdf, b"/Contents") {
        if pos < from {
            continue;
        }
        let mut start = pos + b"/Contents".len();
        while pdf.get(start).is_some_and(u8::is_ascii_whitespace) {
            start += 1;
        }
        from = start;
        if pdf.get(start) != Some(&b'<') || pdf.get(start + 1) == Some(&b'<') {
            continue;
        }
        let Some(len) = pdf[start + 1..]
            .iter()
            .position(|b| !(b.is_ascii_hexdigit() || b.is_ascii_whitespace()))
        else {
            break;
        };
        let end = start + 1 + len;
        if pdf[end] != b'>' || len < 256 {
            continue;
        }
        out.push(start..end + 1);
        from = end;
    }
    out
}

/// `parse` by `deadline`, reading the hexadecimal strings at `blanked` (each from its `<` to
/// its `>`) as empty: lopdf decodes them a digit at a time, and a signature value is checked
/// from the file's bytes anyway.
pub fn parse_blanked(
    pdf: &[u8],
    limits: &Limits,
    blanked: &[Range<usize>],
    deadline: Deadline,
) -> Result<Parsed> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(Error::NotPdf);
    }
    let scan = lex::scan(pdf, limits.max_nesting, limits.max_objects, &deadline)?;
    let mut budget = Budget::new(limits, deadline);
    let edits = load::Edits {
        masks: &scan.masks,
        blanks: blanked,
    };
    let mut warnings = Vec::new();
    let chain = xref::check(pdf, &scan, &mut budget)?;
    let read = match &chain.damage {
        None => load::load(
            pdf,
            &scan,
            &edits,
            chain.table(),
            chain.trailer(&scan),
            &deadline,
        ),
        Some(damage) => Err(damage.clone()),
    };
    let (mut doc, repaired) = match read {
        Ok(doc) => (doc, false),
        Err(damage) => {
            // Reading stopped by the deadline is not damage.
            deadline.check()?;
            // A damaged file is rare and small enough to be copied once, edited.
            let edited = edits.apply(pdf, 0);
            let (bytes, table, trailer) = xref::repair(&edited, &scan, &chain)?;
            let none = load::Edits::default();
            let read = load::load(
                &bytes,
                &scan,
                &none,
                table,
                load::TrailerAt::None,
                &deadline,
            );
            deadline.check()?;
            let mut doc = read.map_err(|e| {
                Error::PdfMalformed(format!("{damage}; reading by scanning failed too: {e}"))
            })?;
            adopt_trailer(&mut doc, trailer, &scan);
            for (id, container) in chain.compressed() {
                let entry = lopdf::xref::XrefEntry::Compressed {
                    container,
                    index: 0,
                };
                doc.reference_table.insert(id, entry);
            }
            warnings.push(format!(
                "the cross-reference data is damaged ({damage}); the objects were found by \
                 scanning the file, as qpdf does"
            ));
            (doc, true)
        }
    };
    unmask(&mut doc);
    // Some writers put `/Encrypt null` into an unencrypted file's trailer.
    let encrypted = !matches!(doc.trailer.get(b"Encrypt"), Err(_) | Ok(Object::Null));
    if encrypted {
        take_stream_data(&mut doc, pdf);
        decrypt::decrypt(&mut doc)?;
    }
    warnings.extend(objstm::expand(&mut doc, pdf, repaired, &mut budget)?);
    deadline.check()?;
    if doc.objects.len() > limits.max_objects {
        return Err(Error::PdfTooComplex(format!(
            "more than {} objects",
            limits.max_objects
        )));
    }
    if doc.catalog().is_err() {
        return Err(Error::PdfMalformed(
            "the file has no document catalog".into(),
        ));
    }
    Ok(Parsed {
        doc,
        warnings,
        encrypted,
        repaired,
    })
}

/// A stream's raw (still filtered) data. `parse` leaves it in the input, which is not copied
/// (a 50 MB scan is one stream): such a stream has its data's offset in `start_position` and
/// its exact length in `/Length`, and `content` empty. Streams built in memory have no offset.
pub fn stream_data<'a>(pdf: &'a [u8], stream: &'a Stream) -> &'a [u8] {
    let Some(start) = stream.start_position else {
        return &stream.content;
    };
    let length = stream.dict.get(b"Length").and_then(Object::as_i64);
    usize::try_from(length.unwrap_or(0))
        .ok()
        .and_then(|length| pdf.get(start..start.checked_add(length)?))
        .unwrap_or_default()
}

/// A stream's data with its filters applied, copied out of the input (that one stream only),
/// for code reading a stream of a document `parse` left there; `None` when it cannot be
/// decoded.
pub fn decoded(pdf: &[u8], stream: &Stream) -> Option<Vec<u8>> {
    let data = stream_data(pdf, stream);
    if !stream.dict.has(b"Filter") {
        return Some(data.to_vec());
    }
    let mut copy = Stream::new(stream.dict.clone(), data.to_vec());
    copy.start_position = None;
    copy.decompressed_content().ok()
}

/// Copies every stream's data into the document (an encrypted one's, to be decrypted).
fn take_stream_data(doc: &mut Document, pdf: &[u8]) {
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            let data = stream_data(pdf, stream).to_vec();
            stream.start_position = None;
            stream.set_content(data);
        }
    }
}

/// A document kyso may append an update to: read within `limits`, neither encrypted (the
/// update would have to be encrypted too) nor repaired (its `/Prev` would point at the
/// damaged cross-reference data). Its stream data stays in `pdf` (`stream_data`, `decoded`):
/// an update is written after the original bytes, never from the document.
pub fn writable(pdf: &[u8], limits: &Limits) -> Result<Document> {
    let parsed = parse(pdf, limits)?;
    if parsed.encrypted {
        return Err(Error::PdfEncrypted);
    }
    if let Some(warning) = parsed.warnings.first() {
        return Err(Error::PdfMalformed(format!(
            "{warning}; kyso does not add to a damaged file (rewrite it first, e.g. with qpdf)"
        )));
    }
    Ok(parsed.doc)
}

/// The object `id` kyso wrote at `offset` of `pdf` in an update of its own (never a stream),
/// as `parse` would read it: for bringing a document read earlier up to date with that update
/// (`update::Revision`) instead of reading the whole file again.
pub(crate) fn object_at(pdf: &[u8], id: lopdf::ObjectId, offset: usize) -> Option<Object> {
    load::one(pdf, id, offset)
}

const MASKED: [(&[u8], &[u8]); 2] = [(b"Encrypt", b"Encryp_"), (b"ObjStm", b"ObjSt_")];

fn unmask(doc: &mut Document) {
    let rename = |dict: &mut lopdf::Dictionary| {
        for (name, masked) in MASKED {
            if let Some(value) = dict.remove(masked) {
                dict.set(name, value);
            }
            if dict.get(b"Type").and_then(Object::as_name).ok() == Some(masked) {
                dict.set("Type", Object::Name(name.to_vec()));
            }
        }
    };
    rename(&mut doc.trailer);
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            rename(&mut stream.dict);
        }
    }
}

/// After a repair: the trailer entries come from the last trailer written (appended as an
/// object by `xref::repair`, then removed) or, failing a `/Root`, from the last catalog found.
fn adopt_trailer(doc: &mut Document, trailer: Option<xref::TrailerSource>, scan: &lex::Scan) {
    let source = trailer.and_then(|t| {
        if t.appended {
            doc.reference_table.entries.remove(&t.id.0);
            match doc.objects.remove(&t.id) {
                Some(Object::Dictionary(dict)) => Some(dict),
                _ => None,
            }
        } else {
            match doc.objects.get(&t.id) {
                Some(Object::Stream(s)) => Some(s.dict.clone()),
                _ => None,
            }
        }
    });
    doc.trailer = lopdf::Dictionary::new();
    if let Some(source) = source {
        for key in [&b"Root"[..], b"Info", b"ID", b"Encryp_"] {
            if let Ok(value) = source.get(key) {
                doc.trailer.set(key, value.clone());
            }
        }
    }
    if !doc.trailer.has(b"Root") {
        let catalog = scan
            .objects
            .iter()
            .rfind(|f| f.summary.has_name(b"Type", b"Catalog"));
        if let Some(found) = catalog {
            doc.trailer.set("Root", Object::Reference(found.id));
        }
    }
}

#[cfg(test)]
mod tests;
