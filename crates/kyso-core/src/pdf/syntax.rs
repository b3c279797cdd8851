//! Token-preserving edits of PDF objects (ISO 32000-1 §7.2–7.3): find a value's byte span,
//! replace or add one dictionary entry, append to an array, and leave every other byte as it
//! was written.
//!
//! Hand-written because lopdf parses into values and drops the original tokens (reals become
//! f32, strings lose their escapes and spacing), and an earlier signature's validator compares
//! what an update rewrote with what was signed. This lexer only skips values, never interprets
//! them; it is bounded by [`MAX_DEPTH`] and indexes only through `get`, so bad input is an
//! error, never a panic.

use std::ops::Range;

use crate::error::{Error, Result};

/// Nesting limit for arrays and dictionaries; real files stay far below it.
const MAX_DEPTH: usize = 64;

fn malformed(what: &str) -> Error {
    Error::PdfMalformed(format!("cannot read {what}"))
}

fn is_white(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delimiter(b: u8) -> bool {
    b"()<>[]{}/%".contains(&b)
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

/// The position of the next token: whitespace and comments skipped.
pub(crate) fn skip_space(src: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = src.get(pos) {
        if is_white(b) {
            pos += 1;
        } else if b == b'%' {
            while src.get(pos).is_some_and(|&b| b != b'\n' && b != b'\r') {
                pos += 1;
            }
        } else {
            break;
        }
    }
    pos
}

/// The span of the regular token (number, keyword) starting at `pos`.
pub(crate) fn token(src: &[u8], pos: usize) -> &[u8] {
    let end = (pos..=src.len())
        .find(|&i| !src.get(i).copied().is_some_and(is_regular))
        .unwrap_or(src.len());
    src.get(pos..end).unwrap_or_default()
}

fn unsigned(token: &[u8]) -> Option<u64> {
    if token.is_empty() || !token.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

/// Reads an unsigned integer token at `pos` (after whitespace); returns it and its end.
pub(crate) fn integer(src: &[u8], pos: usize) -> Option<(u64, usize)> {
    let start = skip_space(src, pos);
    let word = token(src, start);
    Some((unsigned(word)?, start + word.len()))
}

/// The end of the value starting at `pos` (which must not be whitespace). An indirect
/// reference `12 0 R` counts as one value.
pub(crate) fn skip_value(src: &[u8], pos: usize) -> Result<usize> {
    skip_nested(src, pos, 0)
}

fn skip_nested(src: &[u8], pos: usize, depth: usize) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(malformed("an object nested too deeply"));
    }
    let rest = src.get(pos..).unwrap_or_default();
    match rest {
        [b'<', b'<', ..] => skip_items(src, pos + 2, b">>", depth),
        [b'[', ..] => skip_items(src, pos + 1, b"]", depth),
        [b'<', ..] => rest
            .iter()
            .position(|&b| b == b'>')
            .map(|i| pos + i + 1)
            .ok_or_else(|| malformed("a hex string")),
        [b'(', ..] => skip_literal(src, pos),
        [b'/', ..] => Ok(pos + 1 + token(src, pos + 1).len()),
        _ => {
            let word = token(src, pos);
            if word.is_empty() {
                return Err(malformed("a value"));
            }
            let end = pos + word.len();
            Ok(reference_end(src, word, end).unwrap_or(end))
        }
    }
}

/// If `first` (ending at `end`) starts `N G R`, the end of the `R`.
fn reference_end(src: &[u8], first: &[u8], end: usize) -> Option<usize> {
    unsigned(first)?;
    let (_, generation_end) = integer(src, end)?;
    let r = skip_space(src, generation_end);
    (token(src, r) == b"R").then_some(r + 1)
}

/// Skips values up to and including `close` (`]` or `>>`).
fn skip_items(src: &[u8], mut pos: usize, close: &[u8], depth: usize) -> Result<usize> {
    loop {
        pos = skip_space(src, pos);
        let rest = src
            .get(pos..)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| malformed("an unterminated array or dictionary"))?;
        if rest.starts_with(close) {
            return Ok(pos + close.len());
        }
        pos = skip_nested(src, pos, depth + 1)?;
    }
}

/// A literal string: balanced parentheses, backslash escapes (§7.3.4.2).
fn skip_literal(src: &[u8], pos: usize) -> Result<usize> {
    let mut open = 0usize;
    let mut i = pos;
    while let Some(&b) = src.get(i) {
        match b {
            b'\\' => i += 1,
            b'(' => open += 1,
            b')' => {
                open = open.saturating_sub(1);
                if open == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(malformed("an unterminated string"))
}

/// A name token's bytes with `#xx` escapes decoded (§7.3.5).
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let escaped = (b == b'#')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(hex_byte);
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Hexadecimal digits as a byte (`from_str_radix` alone would take a sign too: `#+1`).
pub(crate) fn hex_byte(digits: &[u8]) -> Option<u8> {
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// One entry of a dictionary: where its key starts and its value's span.
struct Entry {
    key: Vec<u8>,
    start: usize,
    value: Range<usize>,
}

/// The entries of the dictionary `dict` (which starts with `<<`) and the position of its `>>`.
fn entries(dict: &[u8]) -> Result<(Vec<Entry>, usize)> {
    let start = skip_space(dict, 0);
    if !dict.get(start..).is_some_and(|d| d.starts_with(b"<<")) {
        return Err(malformed("a dictionary"));
    }
    let mut pos = start + 2;
    let mut out = Vec::new();
    loop {
        pos = skip_space(dict, pos);
        match dict.get(pos..).unwrap_or_default() {
            [] => return Err(malformed("an unterminated dictionary")),
            [b'>', b'>', ..] => return Ok((out, pos)),
            [b'/', ..] => {
                let key_end = skip_value(dict, pos)?;
                let value_start = skip_space(dict, key_end);
                let value_end = skip_value(dict, value_start)?;
                out.push(Entry {
                    key: decode_name(dict.get(pos + 1..key_end).unwrap_or_default()),
                    start: pos,
                    value: value_start..value_end,
                });
                pos = value_end;
            }
            _ => return Err(malformed("a dictionary key")),
        }
    }
}

/// The bytes of `key`'s value in the dictionary `dict`, as written.
pub(crate) fn get<'a>(dict: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>> {
    let (entries, _) = entries(dict)?;
    Ok(entries
        .into_iter()
        .rfind(|e| e.key == key)
        .and_then(|e| dict.get(e.value)))
}

/// `dict` with `key` set to `value`: the old value's bytes replaced, or the entry added
/// before `>>`. Everything else stays as written.
pub(crate) fn set(dict: &[u8], key: &[u8], value: &[u8]) -> Result<Vec<u8>> {
    let (entries, close) = entries(dict)?;
    let (span, insert) = match entries.into_iter().rfind(|e| e.key == key) {
        Some(entry) => (entry.value, value.to_vec()),
        None => {
            let mut entry = Vec::with_capacity(key.len() + value.len() + 2);
            entry.push(b'/');
            entry.extend_from_slice(key);
            entry.push(b' ');
            entry.extend_from_slice(value);
            (close..close, entry)
        }
    };
    Ok(splice(dict, span, &insert))
}

/// `dict` without `key` (every occurrence).
pub(crate) fn remove(dict: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    let (entries, _) = entries(dict)?;
    let mut out = dict.to_vec();
    for entry in entries.iter().rev().filter(|e| e.key == key) {
        out = splice(&out, entry.start..entry.value.end, b"");
    }
    Ok(out)
}

/// `array` (which starts with `[`) with ` item` added before its closing `]`.
pub(crate) fn push(array: &[u8], item: &[u8]) -> Result<Vec<u8>> {
    let start = skip_space(array, 0);
    if array.get(start) != Some(&b'[') {
        return Err(malformed("an array"));
    }
    let close = skip_value(array, start)? - 1;
    let mut insert = Vec::with_capacity(item.len() + 1);
    if close > start + 1 {
        insert.push(b' ');
    }
    insert.extend_from_slice(item);
    Ok(splice(array, close..close, &insert))
}

/// `array` with `first` added right after its opening `[`.
pub(crate) fn push_front(array: &[u8], first: &[u8]) -> Result<Vec<u8>> {
    let start = skip_space(array, 0);
    if array.get(start) != Some(&b'[') {
        return Err(malformed("an array"));
    }
    skip_value(array, start)?;
    let mut insert = first.to_vec();
    insert.push(b' ');
    Ok(splice(array, start + 1..start + 1, &insert))
}

/// The object number and generation of a reference value `N G R`.
pub(crate) fn as_reference(value: &[u8]) -> Option<(u32, u16)> {
    let (id, end) = integer(value, 0)?;
    let (generation, end) = integer(value, end)?;
    let r = skip_space(value, end);
    (token(value, r) == b"R" && skip_space(value, r + 1) == value.len())
        .then(|| Some((u32::try_from(id).ok()?, u16::try_from(generation).ok()?)))
        .flatten()
}

fn splice(src: &[u8], span: Range<usize>, insert: &[u8]) -> Vec<u8> {
    let (head, tail) = (
        src.get(..span.start).unwrap_or(src),
        src.get(span.end..).unwrap_or_default(),
    );
    [head, insert, tail].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &[u8] = b"<< /Type/Page %comment >> ]\r\n  /MediaBox [0 0 595.303937007874 841.889763779528]\n/CropBox[.5 -0.0001 12. 3]/Parent 2 0 R\n/Resources<</Font<</F1 5 0 R>>/ProcSet[/PDF/Text]>>/T (a>>b]c\\(d\\) (nested)) /H <4a3e5d> /N null >>";

    #[test]
    fn reads_values_as_written() {
        assert_eq!(
            get(PAGE, b"MediaBox").unwrap(),
            Some(&b"[0 0 595.303937007874 841.889763779528]"[..])
        );
        assert_eq!(
            get(PAGE, b"CropBox").unwrap(),
            Some(&b"[.5 -0.0001 12. 3]"[..])
        );
        assert_eq!(get(PAGE, b"Parent").unwrap(), Some(&b"2 0 R"[..]));
        assert_eq!(
            get(PAGE, b"T").unwrap(),
            Some(&b"(a>>b]c\\(d\\) (nested))"[..])
        );
        assert_eq!(get(PAGE, b"H").unwrap(), Some(&b"<4a3e5d>"[..]));
        assert_eq!(get(PAGE, b"N").unwrap(), Some(&b"null"[..]));
        assert_eq!(get(PAGE, b"Annots").unwrap(), None);
        assert_eq!(as_reference(b"2 0 R"), Some((2, 0)));
        assert_eq!(as_reference(b"2 0 R 3"), None);
        assert_eq!(as_reference(b"[2 0 R]"), None);
    }

    #[test]
    fn decodes_only_two_hexadecimal_digits_after_a_hash() {
        let dict = b"<< /K#41 (a) /L#+1 (b) /M#4 (c) >>";
        assert_eq!(get(dict, b"KA").unwrap(), Some(&b"(a)"[..]));
        assert_eq!(get(dict, b"L\x01").unwrap(), None);
        assert_eq!(get(dict, b"L#+1").unwrap(), Some(&b"(b)"[..]));
        assert_eq!(get(dict, b"M#4").unwrap(), Some(&b"(c)"[..]));
    }

    #[test]
    fn adding_a_key_keeps_every_other_byte() {
        let edited = set(PAGE, b"Annots", b"[12 0 R]").unwrap();
        let close = PAGE.len() - 2;
        assert_eq!(edited[..close], PAGE[..close]);
        assert_eq!(&edited[close..], b"/Annots [12 0 R]>>");
        assert_eq!(get(&edited, b"Annots").unwrap(), Some(&b"[12 0 R]"[..]));
    }

    #[test]
    fn replacing_and_appending_touch_only_that_value() {
        let dict = b"<</Annots [ 7 0 R\n8 0 R ]/Count 3/Kids[]>>";
        let annots = get(dict, b"Annots").unwrap().unwrap();
        let edited = set(dict, b"Annots", &push(annots, b"12 0 R").unwrap()).unwrap();
        assert_eq!(
            edited,
            b"<</Annots [ 7 0 R\n8 0 R  12 0 R]/Count 3/Kids[]>>"
        );
        let edited = set(&edited, b"Count", b"4").unwrap();
        assert_eq!(
            edited,
            b"<</Annots [ 7 0 R\n8 0 R  12 0 R]/Count 4/Kids[]>>"
        );
        assert_eq!(push(b"[]", b"1 0 R").unwrap(), b"[1 0 R]");
        assert_eq!(push_front(b"[2 0 R]", b"1 0 R").unwrap(), b"[1 0 R 2 0 R]");
        assert_eq!(
            remove(b"<</A 1/NeedAppearances true/B 2>>", b"NeedAppearances").unwrap(),
            b"<</A 1/B 2>>"
        );
    }

    #[test]
    fn escaped_names_match_their_decoded_key() {
        let dict = b"<</Ann#6Fts[1 0 R]>>";
        assert_eq!(get(dict, b"Annots").unwrap(), Some(&b"[1 0 R]"[..]));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"<<",
            b"<</A (unterminated>>",
            b"<</A <abc>>",
            b"<</A [1 2>>",
            b"<</A>>",
            b"<<1 2>>",
            b"[",
            b"<</A )>>",
        ] {
            assert!(get(bad, b"A").is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(push(bad, b"1").is_err());
        }
        let deep = [&b"<</A "[..], &[b'['; 100], &[b']'; 100], b">>"].concat();
        assert!(get(&deep, b"A").is_err());
        let deep = vec![b'['; 100_000];
        assert!(skip_value(&deep, 0).is_err());
    }
}
