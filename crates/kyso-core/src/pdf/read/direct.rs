//! A fast reading of the common indirect object. lopdf's parser (nom, every alternative tried
//! at every value) takes about 100 ns a byte: reading the 22 objects of an issued extract took
//! 0.44 ms, a quarter of an issuance. Objects written plainly (numbers, names, strings,
//! arrays, dictionaries, references, `true`, `false`, `null`) are read here from the scan's
//! tokens, to what lopdf would make of them; anything else — a stream, a keyword, damage,
//! bytes between tokens that are neither white space nor comments — is left to lopdf, so an
//! odd file reads exactly as before.

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

use super::lex::{Lexer, Token};
use crate::pdf::syntax::hex_byte;

/// Object `id` written at `offset` (`N G obj … endobj`), or `None` to ask lopdf.
pub fn object(bytes: &[u8], id: ObjectId, offset: usize) -> Option<Object> {
    let mut tokens = Tokens {
        lexer: Lexer::new(bytes, offset),
        bytes,
        end: offset,
    };
    let object_number = u32::try_from(unsigned(tokens.word()?)?).ok()?;
    let generation = u16::try_from(unsigned(tokens.word()?)?).ok()?;
    if (object_number, generation) != id || tokens.word()? != b"obj" {
        return None;
    }
    // Open arrays and dictionaries, innermost last, each with the values read so far (a
    // dictionary's keys and values alternate).
    let mut open: Vec<(bool, Vec<Object>)> = vec![(false, Vec::new())];
    // The two tokens before this one, when words: a reference's numbers are written unsigned.
    let mut recent: [Option<&[u8]>; 2] = [None, None];
    loop {
        let (start, token) = tokens.next()?;
        let unsigned_pair = recent
            .iter()
            .all(|w| w.is_some_and(|w| unsigned(w).is_some()));
        recent = [
            recent[1],
            if let Token::Word(w) = token {
                Some(w)
            } else {
                None
            },
        ];
        let value = match token {
            Token::Open(dict) => {
                open.push((dict, Vec::new()));
                continue;
            }
            Token::Close => {
                let (dict, values) = open.pop().filter(|_| !open.is_empty())?;
                if dict != (bytes[start] == b'>') {
                    return None;
                }
                if dict {
                    dictionary(values)?
                } else {
                    Object::Array(values)
                }
            }
            Token::Name(raw) => Object::Name(name(raw)?),
            Token::Str => string(&bytes[start..tokens.end])?,
            Token::Word(b"endobj") if open.len() == 1 => {
                let (_, mut values) = open.pop()?;
                return values.pop().filter(|_| values.is_empty());
            }
            Token::Word(b"R") if unsigned_pair => {
                let values = &mut open.last_mut()?.1;
                let generation = values.pop()?;
                let number = values.pop()?;
                match (number, generation) {
                    (Object::Integer(n), Object::Integer(g)) => {
                        Object::Reference((u32::try_from(n).ok()?, u16::try_from(g).ok()?))
                    }
                    _ => return None,
                }
            }
            Token::Word(b"true") => Object::Boolean(true),
            Token::Word(b"false") => Object::Boolean(false),
            Token::Word(b"null") => Object::Null,
            Token::Word(word) => number(word)?,
        };
        open.last_mut()?.1.push(value);
    }
}

/// The scan's tokens, refusing (`None`) any byte between two of them that is neither white
/// space nor part of a comment: the lexer skips stray delimiters, lopdf does not.
struct Tokens<'a> {
    lexer: Lexer<'a>,
    bytes: &'a [u8],
    /// Where the last token ended.
    end: usize,
}

impl<'a> Tokens<'a> {
    fn next(&mut self) -> Option<(usize, Token<'a>)> {
        let (start, token) = self.lexer.next_token()?;
        let mut gap = self.bytes.get(self.end..start)?;
        while let Some((&b, rest)) = gap.split_first() {
            gap = match b {
                b'%' => &rest[rest.iter().position(|&c| c == b'\r' || c == b'\n')?..],
                0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ' => rest,
                _ => return None,
            };
        }
        self.end = self.lexer.pos.min(self.bytes.len());
        Some((start, token))
    }

    fn word(&mut self) -> Option<&'a [u8]> {
        match self.next()? {
            (_, Token::Word(word)) => Some(word),
            _ => None,
        }
    }
}

fn unsigned(word: &[u8]) -> Option<u64> {
    word.iter()
        .all(u8::is_ascii_digit)
        .then(|| std::str::from_utf8(word).ok()?.parse().ok())?
}

/// An integer (`+5`, `-12`) or a real (`1.5`, `-.5`, `5.`), as lopdf reads them.
fn number(word: &[u8]) -> Option<Object> {
    let digits = word
        .strip_prefix(b"+")
        .or(word.strip_prefix(b"-"))
        .unwrap_or(word);
    let text = std::str::from_utf8(word).ok()?;
    match digits.iter().filter(|&&b| b == b'.').count() {
        0 if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            text.parse().ok().map(Object::Integer)
        }
        1 if digits.len() > 1 && digits.iter().all(|&b| b == b'.' || b.is_ascii_digit()) => {
            text.parse().ok().map(Object::Real)
        }
        _ => None,
    }
}

/// Keys and values in turn; a later value of a key replaces the earlier one (as lopdf).
fn dictionary(values: Vec<Object>) -> Option<Object> {
    let mut dict = Dictionary::new();
    let mut values = values.into_iter();
    while let Some(key) = values.next() {
        let Object::Name(key) = key else {
            return None;
        };
        dict.set(key, values.next()?);
    }
    Some(Object::Dictionary(dict))
}

/// A name's bytes with its `#xx` escapes decoded.
fn name(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'#' {
            out.push(hex_byte(tail.get(..2)?)?);
            rest = &tail[2..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    Some(out)
}

/// A string token, `<…>` or `(…)`, decoded.
fn string(token: &[u8]) -> Option<Object> {
    match token.split_first()? {
        (b'<', rest) => {
            let mut digits: Vec<u8> = rest
                .strip_suffix(b">")?
                .iter()
                .copied()
                .filter(|b| !b" \t\n\r\0\x0C".contains(b))
                .collect();
            // An odd last digit is followed by 0 (§7.3.4.3).
            if digits.len() % 2 == 1 {
                digits.push(b'0');
            }
            let bytes = hex::decode(digits).ok()?;
            Some(Object::String(bytes, StringFormat::Hexadecimal))
        }
        (b'(', rest) => literal(rest.strip_suffix(b")")?).map(Object::string_literal),
        _ => None,
    }
}

/// A literal string's content (§7.3.4.2) as lopdf decodes it: escapes resolved, an escaped
/// end of line dropped, other ends of line and nested parentheses kept as written.
fn literal(content: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(content.len());
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = content.get(i) {
        i += 1;
        match b {
            b'\\' => {
                let &e = content.get(i)?;
                i += 1;
                match e {
                    b'0'..=b'7' => {
                        let digits = content[i - 1..]
                            .iter()
                            .take(3)
                            .take_while(|d| (b'0'..=b'7').contains(d))
                            .count();
                        let text = std::str::from_utf8(&content[i - 1..i - 1 + digits]).ok()?;
                        // Overflow is ignored, as the standard says.
                        out.push(u16::from_str_radix(text, 8).ok()? as u8);
                        i += digits - 1;
                    }
                    b'\r' if content.get(i) == Some(&b'\n') => i += 1,
                    b'\r' | b'\n' => {}
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0C),
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' => {
                // The lexer ended the string at its balancing parenthesis.
                depth = depth.checked_sub(1)?;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    (depth == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What lopdf reads of object `id` at `offset` of `bytes`.
    fn lopdf_at(bytes: &[u8], id: ObjectId, offset: usize) -> Option<Object> {
        let mut reader = lopdf::Reader {
            buffer: &bytes[offset..],
            document: lopdf::Document::new(),
            encryption_state: None,
            raw_objects: Default::default(),
        };
        reader.document.reference_table.insert(
            id.0,
            lopdf::xref::XrefEntry::Normal {
                offset: 0,
                generation: id.1,
            },
        );
        reader.get_object(id, &mut Default::default()).ok()
    }

    fn lopdf(text: &[u8]) -> Option<Object> {
        lopdf_at(text, (1, 0), 0)
    }

    /// Every object outside a stream of the peers' signed files and the public attack files
    /// (`../shared`; missing, the test fails): read here, it is what lopdf reads.
    #[test]
    fn reads_the_peers_files_as_lopdf_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = match std::env::var_os("KYSO_TEST_SHARED") {
            Some(dir) => std::path::PathBuf::from(dir),
            None => root
                .ancestors()
                .map(|a| a.join("shared"))
                .find(|d| d.join("corpus").is_dir())
                .expect("test data missing: ../shared (or set KYSO_TEST_SHARED)"),
        };
        let mut files = Vec::new();
        let mut dirs = vec![shared.join("corpus"), shared.join("pdf-attacks")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "pdf") {
                    files.push(path);
                }
            }
        }
        let limits = crate::pdf::read::Limits::default();
        let (mut read_here, mut compared) = (0, 0);
        for path in &files {
            let bytes = std::fs::read(path).unwrap();
            let deadline = crate::pdf::read::Deadline::new(&limits);
            let Ok(scan) = super::super::lex::scan(&bytes, 128, 500_000, &deadline) else {
                continue;
            };
            for found in scan.objects.iter().filter(|f| f.data.is_none()) {
                compared += 1;
                if let Some(ours) = object(&bytes, found.id, found.offset) {
                    read_here += 1;
                    let theirs = lopdf_at(&bytes, found.id, found.offset);
                    assert_eq!(
                        Some(ours),
                        theirs,
                        "{} object {:?}",
                        path.display(),
                        found.id
                    );
                }
            }
        }
        assert!(files.len() > 100, "{} files", files.len());
        // Nearly every object is plain enough to be read here.
        assert!(read_here * 10 > compared * 9, "{read_here} of {compared}");
    }

    #[test]
    fn reads_what_lopdf_reads() {
        for body in [
            &b"<< /Type /Page /MediaBox [0 0 595.28 841.89] /Parent 2 0 R /Kids [3 0 R 4 0 R] >>"[..],
            b"<</W [0 [777.83203 500 -.5 5. +3 -12]]>>",
            b"<</N#20x /B /T true /F false /Z null>>",
            b"<< /S (a\\(b\\)c (nested) \\101\\0\\777 \\n\\r\\t\\b\\f\\q line\\\ncont\r\nraw) >>",
            b"<< /H <FEFF00 41\n4> /E <> /A [] /D << >> >>",
            b"[1 0 R 2 % a comment\n 0 R]",
            b"<< /A 1 /A 2 /B 3 >>",
            b"42",
        ] {
            let text = [&b"1 0 obj\n"[..], body, b"\nendobj\n"].concat();
            let ours = object(&text, (1, 0), 0);
            assert!(ours.is_some(), "{}", String::from_utf8_lossy(body));
            assert_eq!(ours, lopdf(&text), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn leaves_the_unusual_to_lopdf() {
        for body in [
            &b"<< /A 1 ) >>"[..],
            b"<< /A 1e5 >>",
            b"<< /A 1 0R >>",
            b"<< /A /B#G1 >>",
            b"<< /A >>",
            b"<< 1 /A >>",
            b"<< /A [1 2 >> ]",
            b"<< /Length 3 >> stream\nabc\nendstream",
            b"5 6",
            b"<< /A (unbalanced >>",
            b"<< /A <12 >>",
            b"<< /A 1 70000 R >>",
            b"<< /A -1 0 R >>",
            b"<< /A +1 0 R >>",
            b"<< /A <+1> >>",
        ] {
            let text = [&b"1 0 obj\n"[..], body, b"\nendobj\n"].concat();
            assert_eq!(
                object(&text, (1, 0), 0),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(object(b"1 0 obj 5 endobj", (2, 0), 0), None);
    }
}
