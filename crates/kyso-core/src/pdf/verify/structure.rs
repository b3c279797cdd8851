//! Structural checks made before any cryptography or trust: revision boundaries, the byte
//! ranges of each signature.

use std::ops::Range;

/// Offsets just past each `%%EOF` marker and its end-of-line: where each revision ends.
pub fn revision_ends(pdf: &[u8]) -> Vec<usize> {
    crate::pdf::pages::find_all(pdf, b"%%EOF")
        .into_iter()
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

/// `data` inflated, when it fits in `limit` bytes.
pub fn inflate(data: &[u8], limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let decoder = flate2::read::ZlibDecoder::new(data);
    std::io::Read::read_to_end(&mut std::io::Read::take(decoder, limit + 1), &mut out).ok()?;
    (out.len() as u64 <= limit).then_some(out)
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
}
