//! A PDF tokenizer that only finds structure (ISO 32000-2 §7.2–7.3): where strings, comments,
//! names, stream data and objects begin and end, and how deep arrays and dictionaries nest.
//! lopdf's parser is recursive and has no depth limit, so everything it will parse is first
//! walked here, iteratively; no parser we could use instead exposes such a scan.

use std::ops::Range;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// `[`, or `<<` (true).
    Open(bool),
    /// `]` or `>>`.
    Close,
    /// A name without its slash (escapes left as written).
    Name(&'a [u8]),
    /// A number or a keyword.
    Word(&'a [u8]),
    /// A literal or hexadecimal string.
    Str,
}

pub struct Lexer<'a> {
    data: &'a [u8],
    pub pos: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    b"()<>[]{}/%".contains(&b)
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Lexer { data, pos }
    }

    fn run(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        // An escape or a hex string may end past the last byte.
        self.pos = self.pos.min(self.data.len());
        let start = self.pos;
        while self.data.get(self.pos).is_some_and(|&b| keep(b)) {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// The next token and its offset; `None` at the end of the data.
    pub fn next_token(&mut self) -> Option<(usize, Token<'a>)> {
        loop {
            self.run(is_white);
            let start = self.pos;
            let b = *self.data.get(start)?;
            self.pos += 1;
            let token = match b {
                // An update may follow `%%EOF` on the same line (pdf-writer ends without an
                // end-of-line, pyHanko appends right after it).
                b'%' if self.data[start..].starts_with(b"%%EOF") => {
                    self.pos = start + b"%%EOF".len();
                    continue;
                }
                b'%' => {
                    self.run(|b| b != b'\r' && b != b'\n');
                    continue;
                }
                b'[' => Token::Open(false),
                b']' => Token::Close,
                b'<' if self.data.get(self.pos) == Some(&b'<') => {
                    self.pos += 1;
                    Token::Open(true)
                }
                b'>' if self.data.get(self.pos) == Some(&b'>') => {
                    self.pos += 1;
                    Token::Close
                }
                b'<' => {
                    self.run(|b| b != b'>');
                    self.pos += 1;
                    Token::Str
                }
                b'(' => {
                    self.literal_string();
                    Token::Str
                }
                b'/' => Token::Name(self.run(is_regular)),
                // Stray delimiters carry no structure.
                b')' | b'>' | b'{' | b'}' => continue,
                _ => {
                    self.pos -= 1;
                    Token::Word(self.run(is_regular))
                }
            };
            return Some((start, token));
        }
    }

    /// Skips a literal string after its `(`: balanced parentheses, backslash escapes (§7.3.4.2).
    fn literal_string(&mut self) {
        let mut depth = 1usize;
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }
}

/// A value written directly in a dictionary: what the reader needs of stream dictionaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Name(Vec<u8>),
    Other,
}

/// The entries of an object's dictionary that steer reading: `/Type`, `/Length`, filters,
/// an xref stream's `/W`, `/Index`, `/Size`, `/Prev`, and `/Predictor`, `/Columns` of its
/// decode parameters. Each maps to the direct values written after the key.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub entries: Vec<(&'static [u8], Vec<Value>)>,
}

const KEYS: [&[u8]; 11] = [
    b"Type",
    b"Length",
    b"Filter",
    b"W",
    b"Index",
    b"Size",
    b"Prev",
    b"XRefStm",
    b"Predictor",
    b"Columns",
    b"Root",
];

impl Summary {
    pub fn get(&self, key: &[u8]) -> Option<&[Value]> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The single integer written for `key` (not a reference).
    pub fn int(&self, key: &[u8]) -> Option<i64> {
        match self.get(key)? {
            [Value::Int(i)] => Some(*i),
            _ => None,
        }
    }

    pub fn ints(&self, key: &[u8]) -> Option<Vec<i64>> {
        self.get(key)?
            .iter()
            .map(|v| match v {
                Value::Int(i) => Some(*i),
                _ => None,
            })
            .collect()
    }

    pub fn has_name(&self, key: &[u8], name: &[u8]) -> bool {
        self.get(key)
            .is_some_and(|v| v.iter().any(|v| *v == Value::Name(name.to_vec())))
    }
}

/// An indirect object found by the scan.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: (u32, u16),
    /// Offset of its object number.
    pub offset: usize,
    pub summary: Summary,
    /// Its stream data, if it is a stream.
    pub data: Option<Range<usize>>,
}

/// What a scan of the whole file saw.
#[derive(Debug, Default)]
pub struct Scan {
    pub objects: Vec<Found>,
    /// Offsets of each `xref` keyword and the byte range of each `trailer` dictionary.
    pub xref_tables: Vec<usize>,
    pub trailers: Vec<Range<usize>>,
    /// Offsets of `/Encrypt` and `/ObjStm` name tokens (their slash).
    pub masks: Vec<usize>,
}

/// Walks `data` once: refuses nesting deeper than `max_depth` and more than `max_objects`
/// objects, or walking past `deadline`, and records objects, xref tables, trailers and the
/// names to mask.
pub fn scan(
    data: &[u8],
    max_depth: usize,
    max_objects: usize,
    deadline: &super::Deadline,
) -> Result<Scan> {
    let mut out = Scan::default();
    let mut lexer = Lexer::new(data, 0);
    let mut depth = 0usize;
    // The last two words, for `N G obj`.
    let mut words: [Option<(usize, &[u8])>; 2] = [None, None];
    let mut current: Option<Found> = None;
    // The keys being read in the object's dictionary (depth 1) and in a dictionary inside it
    // (depth 2, decode parameters), and whether a value is awaited.
    let mut keys = DictState::default();
    let mut trailer_at: Option<usize> = None;
    // The scan is one of the passes over the whole input (`pages`).
    let mut released = 0;
    let mut tokens = 0usize;
    while let Some((at, token)) = lexer.next_token() {
        tokens += 1;
        deadline.check_every(tokens)?;
        if lexer.pos.min(data.len()) - released >= crate::pdf::pages::WINDOW {
            let read = lexer.pos.min(data.len());
            crate::pdf::pages::read(&data[released..read]);
            released = read;
        }
        let word = match token {
            Token::Word(w) => Some((at, w)),
            _ => None,
        };
        match token {
            Token::Open(_) => {
                keys.feed(depth, token, current.as_mut());
                depth += 1;
                if depth > max_depth {
                    return Err(too_deep(max_depth));
                }
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(start) = trailer_at.take() {
                        out.trailers.push(start..lexer.pos);
                    }
                }
            }
            Token::Name(name) => {
                if name == b"Encrypt" || name == b"ObjStm" {
                    out.masks.push(at);
                }
                keys.feed(depth, token, current.as_mut());
            }
            Token::Str => keys.feed(depth, token, current.as_mut()),
            Token::Word(w) => match w {
                b"obj" => {
                    if let [Some((offset, num)), Some((_, gen))] = words {
                        if let (Some(num), Some(gen)) = (number(num), number(gen)) {
                            if let Some(done) = current.take() {
                                out.objects.push(done);
                            }
                            if out.objects.len() >= max_objects {
                                return Err(Error::PdfTooComplex(format!(
                                    "more than {max_objects} objects"
                                )));
                            }
                            current = Some(Found {
                                id: (num, gen),
                                offset,
                                summary: Summary::default(),
                                data: None,
                            });
                            keys = DictState::default();
                            depth = 0;
                        }
                    }
                }
                b"stream" if depth == 0 => {
                    let start = stream_start(data, lexer.pos);
                    let length = current
                        .as_ref()
                        .and_then(|f| f.summary.int(b"Length"))
                        .and_then(|l| usize::try_from(l).ok());
                    let end = stream_end(data, start, length);
                    if let Some(found) = current.as_mut() {
                        found.data = Some(start..end);
                    }
                    lexer.pos = end;
                }
                b"endobj" => {
                    if let Some(done) = current.take() {
                        out.objects.push(done);
                    }
                    depth = 0;
                }
                b"xref" => out.xref_tables.push(at),
                b"trailer" => {
                    trailer_at = Some(lexer.pos);
                    depth = 0;
                }
                _ => keys.feed(depth, token, current.as_mut()),
            },
        }
        words = [words[1], word];
    }
    if let Some(done) = current.take() {
        out.objects.push(done);
    }
    Ok(out)
}

/// The summary of the dictionary that starts at `pos` (a trailer's).
pub fn dictionary(data: &[u8], pos: usize) -> Summary {
    let mut found = Found {
        id: (0, 0),
        offset: pos,
        summary: Summary::default(),
        data: None,
    };
    let mut keys = DictState::default();
    let mut lexer = Lexer::new(data, pos);
    let mut depth = 0usize;
    while let Some((_, token)) = lexer.next_token() {
        keys.feed(depth, token, Some(&mut found));
        match token {
            Token::Open(_) => depth += 1,
            Token::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    found.summary
}

/// Refuses nesting deeper than `max_depth` in `data`, which holds no streams (the inside of
/// an object stream).
pub fn check_nesting(data: &[u8], max_depth: usize) -> Result<()> {
    let mut lexer = Lexer::new(data, 0);
    let mut depth = 0usize;
    while let Some((_, token)) = lexer.next_token() {
        match token {
            Token::Open(_) => {
                depth += 1;
                if depth > max_depth {
                    return Err(too_deep(max_depth));
                }
            }
            Token::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn too_deep(max_depth: usize) -> Error {
    Error::PdfTooComplex(format!("objects nested deeper than {max_depth} levels"))
}

/// Which key of the object's dictionary (and of a dictionary one level down) the next value
/// belongs to.
#[derive(Default)]
struct DictState {
    key: [Option<&'static [u8]>; 2],
    awaiting: [bool; 2],
    /// Whether the container at depth 2 is a dictionary (else an array of the depth-1 key).
    inner_dict: bool,
}

impl DictState {
    /// Records `token`, read at `depth` (before an opening bracket counts).
    fn feed(&mut self, depth: usize, token: Token<'_>, found: Option<&mut Found>) {
        match token {
            Token::Open(dict) => {
                self.value(depth, None, found);
                if depth + 1 == 2 {
                    self.inner_dict = dict;
                    self.key[1] = None;
                    self.awaiting[1] = false;
                }
            }
            Token::Close => {}
            Token::Name(name) => self.name(depth, name, found),
            Token::Str => self.value(depth, Some(Value::Other), found),
            Token::Word(w) => self.value(
                depth,
                Some(integer(w).map_or(Value::Other, Value::Int)),
                found,
            ),
        }
    }

    /// The dictionary level whose key a token at `depth` belongs to.
    fn level(&self, depth: usize) -> Option<usize> {
        match depth {
            1 => Some(0),
            2 if self.inner_dict => Some(1),
            _ => None,
        }
    }

    fn name(&mut self, depth: usize, name: &[u8], found: Option<&mut Found>) {
        match self.level(depth) {
            Some(l) if !self.awaiting[l] => {
                self.key[l] = KEYS.iter().find(|k| **k == name).copied();
                self.awaiting[l] = true;
            }
            _ => self.value(depth, Some(Value::Name(name.to_vec())), found),
        }
    }

    /// A value at `depth`: recorded under its key when it is a plain value (`None` for a
    /// container, which is only consumed).
    fn value(&mut self, depth: usize, value: Option<Value>, found: Option<&mut Found>) {
        let level = match self.level(depth) {
            Some(l) => {
                self.awaiting[l] = false;
                l
            }
            // An element of an array that is the value of a depth-1 key.
            None if depth == 2 => 0,
            None => return,
        };
        if let (Some(key), Some(value), Some(found)) = (self.key[level], value, found) {
            match found.summary.entries.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => found.summary.entries.push((key, vec![value])),
            }
        }
    }
}

fn integer(word: &[u8]) -> Option<i64> {
    match word.strip_prefix(b"-") {
        Some(digits) => number::<i64>(digits).map(|v| -v),
        None => number(word.strip_prefix(b"+").unwrap_or(word)),
    }
}

fn number<T: std::str::FromStr>(word: &[u8]) -> Option<T> {
    word.iter()
        .all(u8::is_ascii_digit)
        .then(|| std::str::from_utf8(word).ok()?.parse().ok())
        .flatten()
}

/// Stream data starts after the end-of-line that follows `stream` (§7.3.8.1).
fn stream_start(data: &[u8], mut pos: usize) -> usize {
    if data.get(pos) == Some(&b'\r') {
        pos += 1;
    }
    if data.get(pos) == Some(&b'\n') {
        pos += 1;
    }
    pos
}

/// Where stream data ends: after `/Length` bytes when `endstream` follows there, else at the
/// next `endstream` (as qpdf and lopdf recover), else at the end of the data.
fn stream_end(data: &[u8], start: usize, length: Option<usize>) -> usize {
    if let Some(end) = length.and_then(|l| start.checked_add(l)) {
        let rest = data.get(end..).unwrap_or_default();
        let skip = rest.iter().take_while(|&&b| is_white(b)).count();
        if rest[skip..].starts_with(b"endstream") {
            return end;
        }
    }
    memchr::memmem::find(data.get(start..).unwrap_or_default(), b"endstream")
        .map_or(data.len(), |at| start + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `super::scan` with the default time budget.
    fn scan(data: &[u8], max_depth: usize, max_objects: usize) -> Result<Scan> {
        let deadline = super::super::Deadline::new(&Default::default());
        super::scan(data, max_depth, max_objects, &deadline)
    }

    #[test]
    fn unterminated_tokens_at_the_end_are_harmless() {
        let joined = scan(b"%PDF-1.7\n%%EOF1 0 obj (x) endobj", 128, 100).unwrap();
        assert_eq!(joined.objects[0].id, (1, 0));
        for tail in [
            "<ab",
            "(a\\",
            "(",
            "/",
            "%",
            "1 0 obj <</Length 99>> stream\n",
        ] {
            let pdf = format!("%PDF-1.7\n{tail}");
            assert!(scan(pdf.as_bytes(), 128, 100).is_ok(), "{tail}");
            assert!(check_nesting(pdf.as_bytes(), 128).is_ok());
        }
    }

    #[test]
    fn the_word_stream_in_a_string_hides_nothing() {
        let deep = "[".repeat(200);
        let pdf = format!("%PDF-1.7\n1 0 obj <</Note (stream) /X {deep}>> endobj");
        assert!(matches!(
            scan(pdf.as_bytes(), 128, 100),
            Err(Error::PdfTooComplex(_))
        ));
        // Brackets inside strings, comments and stream data are not structure.
        let pdf = format!(
            "%PDF-1.7\n1 0 obj <</Length 200 /S ({deep}) >>\nstream\n{deep}\nendstream endobj\n% {deep}\n"
        );
        let found = scan(pdf.as_bytes(), 128, 100).unwrap();
        assert_eq!(found.objects.len(), 1);
        assert_eq!(found.objects[0].summary.int(b"Length"), Some(200));
    }

    #[test]
    fn objects_trailers_and_stream_dictionaries_are_found() {
        let pdf = b"%PDF-1.7\n1 0 obj <</Type/XRef/W[1 2 1]/Index[0 3]/Length 5 0 R/Prev 9/DecodeParms<</Columns 4/Predictor 12>>>>stream\nabc\nendstream\nendobj\n12 3 obj (x) endobj\nxref\n0 1\ntrailer\n<</Size 3/Root 1 0 R>>\n/ObjStm";
        let found = scan(pdf, 128, 100).unwrap();
        let ids: Vec<_> = found.objects.iter().map(|f| f.id).collect();
        assert_eq!(ids, [(1, 0), (12, 3)]);
        let xref = &found.objects[0].summary;
        assert!(xref.has_name(b"Type", b"XRef"));
        assert_eq!(xref.ints(b"W"), Some(vec![1, 2, 1]));
        assert_eq!(xref.int(b"Length"), None);
        assert_eq!(xref.int(b"Prev"), Some(9));
        assert_eq!(xref.int(b"Columns"), Some(4));
        assert_eq!(xref.int(b"Predictor"), Some(12));
        assert_eq!(found.xref_tables.len(), 1);
        let trailer = &pdf[found.trailers[0].clone()];
        assert!(trailer.starts_with(b"\n<</Size") && trailer.ends_with(b">>"));
        assert_eq!(found.masks.len(), 1);
        assert!(matches!(scan(pdf, 128, 1), Err(Error::PdfTooComplex(_))));
    }
}
