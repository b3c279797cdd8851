//! Structural checks made before any cryptography or trust: revision boundaries, the byte
//! ranges of each signature, and limits that keep hostile files from exhausting the parser.

use std::ops::Range;

use crate::error::{Error, Result};

/// Deepest array/dictionary nesting we parse; real documents stay far below.
const MAX_NESTING: usize = 128;
/// Most indirect objects we accept in one document.
pub const MAX_OBJECTS: usize = 500_000;
/// Most bytes the object streams of one document may inflate to (the parser inflates them
/// all at load, without a limit of its own).
pub const MAX_INFLATED: u64 = 256 * 1024 * 1024;

/// Offsets just past each `%%EOF` marker and its end-of-line: where each revision ends.
pub fn revision_ends(pdf: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(pdf, b"%%EOF")
        .map(|pos| {
            let mut end = pos + 5;
            // One end-of-line belongs to the marker (\r\n, \n or \r).
            if pdf.get(end) == Some(&b'\r') {
                end += 1;
            }
            if pdf.get(end) == Some(&b'\n') {
                end += 1;
            }
            end
        })
        .collect()
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The signed ranges and the gap between them, when /ByteRange is sane: four non-negative
/// integers, starting at 0, in order, inside the file.
pub fn byte_ranges(pdf_len: usize, br: &[i64]) -> Option<([Range<usize>; 2], Range<usize>)> {
    let [a, b, c, d] = <[i64; 4]>::try_from(br).ok()?;
    let [a, b, c, d] = [a, b, c, d].map(|v| usize::try_from(v).ok());
    let (a, b, c, d) = (a?, b?, c?, d?);
    let end = c.checked_add(d)?;
    (a == 0 && b > 1 && c > b + 1 && end <= pdf_len).then_some(([a..b, c..end], b..c))
}

/// Refuses files nested deeper than any real document, before the recursive parser sees them
/// (a stack overflow cannot be caught). Stream bodies are skipped: their bytes are data.
pub fn check_nesting(pdf: &[u8]) -> Result<()> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < pdf.len() {
        match pdf[i] {
            b'[' => depth += 1,
            b'<' if pdf.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b']' => depth = depth.saturating_sub(1),
            b'>' if pdf.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if pdf[i..].starts_with(b"stream") && !pdf[..i].ends_with(b"end") => {
                match find(&pdf[i..], b"endstream") {
                    Some(len) => i += len + 8,
                    None => return Ok(()),
                }
            }
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(Error::PdfMalformed(format!(
                "objects nested deeper than {MAX_NESTING} levels"
            )));
        }
        i += 1;
    }
    Ok(())
}

/// Refuses compression bombs before the parser inflates them: each object stream is inflated
/// here into a counter, and all of them together may not exceed `limit` bytes.
pub fn check_object_streams(pdf: &[u8], limit: u64) -> Result<()> {
    let mut total = 0u64;
    for at in memchr::memmem::find_iter(pdf, b"/ObjStm") {
        let Some(start) = find(&pdf[at..], b"stream").map(|s| at + s + b"stream".len()) else {
            continue;
        };
        let data = pdf[start..].strip_prefix(b"\r").unwrap_or(&pdf[start..]);
        let data = data.strip_prefix(b"\n").unwrap_or(data);
        let decoder = flate2::read::ZlibDecoder::new(data);
        let budget = limit - total + 1;
        // A stream that is not Flate (or is damaged) inflates to little here; the parser
        // will judge it.
        total += std::io::copy(
            &mut std::io::Read::take(decoder, budget),
            &mut std::io::sink(),
        )
        .unwrap_or(0);
        if total > limit {
            return Err(Error::PdfMalformed(format!(
                "object streams inflate to more than {} MiB",
                limit >> 20
            )));
        }
    }
    Ok(())
}

/// `data` inflated, when it fits in `limit` bytes.
pub fn inflate(data: &[u8], limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let decoder = flate2::read::ZlibDecoder::new(data);
    std::io::Read::read_to_end(&mut std::io::Read::take(decoder, limit + 1), &mut out).ok()?;
    (out.len() as u64 <= limit).then_some(out)
}

/// The file as the parser sees it: large `/Contents <hex>` values replaced by `<>` and spaces.
pub struct Blanked {
    pub bytes: Vec<u8>,
    /// Offsets of the `<` of each blanked value.
    pub at: Vec<usize>,
}

/// lopdf decodes hex strings a digit at a time, so the kilobytes of a CMS signature make up
/// most of its parsing time. Blanking them keeps every offset and lets the validator take each
/// signature value from the original bytes at its /ByteRange gap, where it is checked anyway.
pub fn blank_signature_values(pdf: &[u8]) -> Blanked {
    let mut bytes = pdf.to_vec();
    let mut at = Vec::new();
    let mut from = 0;
    while let Some(pos) = find(&pdf[from..], b"/Contents") {
        let mut start = from + pos + b"/Contents".len();
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
        bytes[start + 1] = b'>';
        bytes[start + 2..=end].fill(b' ');
        at.push(start);
        from = end;
    }
    Blanked { bytes, at }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_end_after_each_eof_and_its_newline() {
        let pdf = b"%PDF-1.7\n...%%EOF\r\nmore%%EOF\nx%%EOF";
        assert_eq!(revision_ends(pdf), vec![19, 29, 35]);
    }

    #[test]
    fn byte_ranges_must_start_at_zero_and_stay_inside() {
        assert!(byte_ranges(100, &[0, 10, 20, 80]).is_some());
        assert!(byte_ranges(100, &[0, 10, 20, 81]).is_none());
        assert!(byte_ranges(100, &[1, 10, 20, 80]).is_none());
        assert!(byte_ranges(100, &[0, 20, 10, 5]).is_none());
        assert!(byte_ranges(100, &[0, 10, 20]).is_none());
        assert!(byte_ranges(100, &[0, -10, 20, 5]).is_none());
        assert!(byte_ranges(100, &[0, 10, i64::MAX, i64::MAX]).is_none());
    }

    #[test]
    fn large_contents_are_blanked_in_place() {
        let hex = "AB".repeat(200);
        let pdf = format!("<</Contents <{hex}>/M (x)>> <</Contents <AB>>>");
        let blanked = blank_signature_values(pdf.as_bytes());
        assert_eq!(blanked.bytes.len(), pdf.len());
        assert_eq!(blanked.at, vec![12]);
        let text = String::from_utf8(blanked.bytes).unwrap();
        assert!(text.starts_with("<</Contents <>   "));
        assert!(text.ends_with(" /M (x)>> <</Contents <AB>>>"));
    }

    #[test]
    fn compression_bombs_are_refused() {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..3 {
            encoder.write_all(&zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        let mut pdf =
            b"%PDF-1.7\n1 0 obj <</Type /ObjStm /Filter /FlateDecode>>\nstream\n".to_vec();
        pdf.extend_from_slice(&bomb);
        assert!(check_object_streams(&pdf, 2 << 20).is_err());
        assert!(check_object_streams(&pdf, 4 << 20).is_ok());
        assert!(
            check_object_streams(b"%PDF-1.7\n1 0 obj <</Type /ObjStm>>\nstream\nabc", 1).is_ok()
        );
    }

    #[test]
    fn deep_nesting_is_refused_but_streams_are_data() {
        let deep = format!("%PDF-1.7\n{}", "[".repeat(MAX_NESTING + 1));
        assert!(check_nesting(deep.as_bytes()).is_err());
        let stream = format!("%PDF-1.7\nstream\n{}\nendstream", "[".repeat(1000));
        assert!(check_nesting(stream.as_bytes()).is_ok());
    }
}
