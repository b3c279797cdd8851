//! The cross-reference chain (ISO 32000-2 §7.5.4–7.5.8), read before lopdf reads it: every
//! section the chain reaches (through `startxref`, `/Prev` and `/XRefStm`, each visited once)
//! must be where the scan found a table or an xref stream, and every in-use entry must point
//! at an object the scan found, with its number. Then lopdf only ever parses bytes the scan has
//! checked; when the chain is damaged the file is repaired from the scan instead (`repair`).

use std::collections::{HashMap, HashSet};
use std::io::Write;

use lopdf::xref::XrefEntry;

use super::lex::{Found, Lexer, Scan, Summary, Token};
use super::load::TrailerAt;
use super::Budget;
use crate::error::{Error, Result};

/// Why the chain cannot be used as written.
pub type Damage = String;

pub struct Entry {
    id: u32,
    generation: u16,
    /// The offset, or for an object in an object stream, the stream's number.
    offset: u64,
    /// In an object stream (then `index` is its place there).
    compressed: bool,
    index: u64,
}

/// The entries the chain yields, newest section first, and what is wrong with it.
pub struct Chain {
    entries: Vec<Entry>,
    pub damage: Option<Damage>,
    /// Where the newest section is.
    newest: Option<usize>,
}

impl Chain {
    /// The entries as lopdf's reference table holds them, newest first.
    pub fn table(&self) -> impl Iterator<Item = (u32, XrefEntry)> + '_ {
        self.entries.iter().filter_map(|e| {
            let entry = if e.compressed {
                XrefEntry::Compressed {
                    container: u32::try_from(e.offset).ok()?,
                    index: u16::try_from(e.index).ok()?,
                }
            } else {
                XrefEntry::Normal {
                    offset: u32::try_from(e.offset).ok()?,
                    generation: e.generation,
                }
            };
            Some((e.id, entry))
        })
    }

    /// Where the newest trailer's entries are: its `trailer` dictionary or its xref stream.
    pub fn trailer(&self, scan: &Scan) -> TrailerAt {
        match self.newest {
            Some(at) if scan.xref_tables.contains(&at) => scan
                .trailers
                .iter()
                .find(|t| t.start > at)
                .map_or(TrailerAt::None, |t| TrailerAt::Dictionary(t.clone())),
            Some(at) => TrailerAt::Stream(at),
            None => TrailerAt::None,
        }
    }

    /// (object number, container) of the objects the chain places in object streams.
    pub fn compressed(&self) -> Vec<(u32, u32)> {
        let mut decided = HashSet::new();
        self.entries
            .iter()
            .filter(|e| decided.insert(e.id) && e.compressed)
            .filter_map(|e| Some((e.id, u32::try_from(e.offset).ok()?)))
            .collect()
    }
}

/// Reads the chain; its `damage` says why it cannot be used as written (a section missing or
/// unreadable, or an entry pointing where its object is not); `Err` when a limit is reached.
pub fn check(pdf: &[u8], scan: &Scan, budget: &mut Budget) -> Result<Chain> {
    let mut chain = Chain {
        entries: Vec::new(),
        damage: None,
        newest: None,
    };
    let objects: HashMap<usize, &Found> = scan.objects.iter().map(|f| (f.offset, f)).collect();
    let Some(start) = startxref(pdf) else {
        chain.damage = Some("no startxref at the end of the file".into());
        return Ok(chain);
    };
    let mut queue = vec![start];
    let mut visited = HashSet::new();
    while let Some(offset) = queue.pop() {
        budget.deadline.check()?;
        if !visited.insert(offset) {
            continue; // a /Prev cycle: each section is read once
        }
        if chain.newest.is_none() {
            let at = usize::try_from(offset).ok().filter(|&o| o < pdf.len());
            chain.newest = at.map(|at| skip_white(pdf, at));
        }
        match section(pdf, offset, scan, &objects, budget, &mut chain.entries)? {
            Ok(trailer) => {
                for key in [&b"Prev"[..], b"XRefStm"] {
                    if let Some(next) = trailer.int(key).and_then(|o| u64::try_from(o).ok()) {
                        queue.push(next);
                    }
                }
            }
            Err(damage) => {
                chain.damage = Some(damage);
                return Ok(chain);
            }
        }
    }
    let wrong: Vec<&Entry> = chain
        .entries
        .iter()
        .filter(|e| !e.compressed && located(pdf, &objects, e).is_none())
        .collect();
    if let Some(e) = wrong.first() {
        chain.damage = Some(format!(
            "{} cross-reference entr{} where the object is not, e.g. {} {} R at byte {}",
            wrong.len(),
            if wrong.len() == 1 {
                "y points"
            } else {
                "ies point"
            },
            e.id,
            e.generation,
            e.offset
        ));
    }
    Ok(chain)
}

/// Reads the section at `offset`; returns its trailer (or xref stream dictionary).
fn section(
    pdf: &[u8],
    offset: u64,
    scan: &Scan,
    objects: &HashMap<usize, &Found>,
    budget: &mut Budget,
    entries: &mut Vec<Entry>,
) -> Result<std::result::Result<Summary, Damage>> {
    let Some(at) = usize::try_from(offset).ok().filter(|&o| o < pdf.len()) else {
        return Ok(Err(format!(
            "a cross-reference offset ({offset}) is outside the file"
        )));
    };
    let at = skip_white(pdf, at);
    if scan.xref_tables.contains(&at) {
        return Ok(table(pdf, at, entries)
            .ok_or_else(|| format!("the xref table at byte {at} is damaged")));
    }
    match objects
        .get(&at)
        .filter(|f| f.summary.has_name(b"Type", b"XRef"))
    {
        Some(found) => Ok(stream(pdf, found, budget, entries)?
            .map(|()| found.summary.clone())
            .ok_or_else(|| format!("the xref stream at byte {at} is damaged"))),
        None => Ok(Err(format!(
            "no cross-reference section at byte {at}, where the file says one is"
        ))),
    }
}

/// Where an in-use entry's object starts, when the entry points at it (lopdf, like other
/// readers, skips white space before `N G obj`).
fn located(pdf: &[u8], objects: &HashMap<usize, &Found>, e: &Entry) -> Option<usize> {
    let at = usize::try_from(e.offset).ok().filter(|&o| o < pdf.len())?;
    let at = skip_white(pdf, at);
    objects
        .get(&at)
        .is_some_and(|f| f.id == (e.id, e.generation))
        .then_some(at)
}

fn skip_white(pdf: &[u8], at: usize) -> usize {
    at + pdf[at..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

/// The offset after the last `startxref` near the end, found as lopdf finds it.
fn startxref(pdf: &[u8]) -> Option<u64> {
    let tail = pdf.len().saturating_sub(1024);
    let at = memchr::memmem::rfind(&pdf[tail..], b"startxref")? + tail + b"startxref".len();
    let mut lexer = Lexer::new(pdf, at);
    match lexer.next_token()? {
        (_, Token::Word(w)) => std::str::from_utf8(w).ok()?.parse().ok(),
        _ => None,
    }
}

/// Reads a classic table's in-use entries; returns its trailer's summary.
fn table(pdf: &[u8], at: usize, entries: &mut Vec<Entry>) -> Option<Summary> {
    let mut lexer = Lexer::new(pdf, at + b"xref".len());
    loop {
        let first = word(&mut lexer)?;
        if first == b"trailer" {
            return Some(super::lex::dictionary(pdf, lexer.pos));
        }
        let start: u32 = std::str::from_utf8(first).ok()?.parse().ok()?;
        let count: u32 = std::str::from_utf8(word(&mut lexer)?).ok()?.parse().ok()?;
        for i in 0..count {
            let offset: u64 = std::str::from_utf8(word(&mut lexer)?).ok()?.parse().ok()?;
            let generation: u16 = std::str::from_utf8(word(&mut lexer)?).ok()?.parse().ok()?;
            if word(&mut lexer)? == b"n" {
                entries.push(Entry {
                    id: start.checked_add(i)?,
                    generation,
                    offset,
                    compressed: false,
                    index: 0,
                });
            }
        }
    }
}

fn word<'a>(lexer: &mut Lexer<'a>) -> Option<&'a [u8]> {
    match lexer.next_token() {
        Some((_, Token::Word(w))) => Some(w),
        _ => None,
    }
}

/// Reads an xref stream's in-use entries (§7.5.8.3), inflating it within the budget.
fn stream(
    pdf: &[u8],
    found: &Found,
    budget: &mut Budget,
    entries: &mut Vec<Entry>,
) -> Result<Option<()>> {
    let s = &found.summary;
    let Some(range) = found.data.clone() else {
        return Ok(None);
    };
    let filters = s.get(b"Filter").unwrap_or_default();
    let data = match filters {
        [] => pdf[range].to_vec(),
        [super::lex::Value::Name(f)] if f == b"FlateDecode" => match budget.inflate(&pdf[range])? {
            Some(data) => data,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(widths) = s.ints(b"W").filter(|w| w.len() == 3) else {
        return Ok(None);
    };
    let Ok(widths) = widths
        .iter()
        .map(|&w| usize::try_from(w).ok().filter(|&w| w <= 8).ok_or(()))
        .collect::<std::result::Result<Vec<usize>, ()>>()
    else {
        return Ok(None);
    };
    let row = widths.iter().sum::<usize>();
    if row == 0 {
        return Ok(None);
    }
    let data = match s.int(b"Predictor").unwrap_or(1) {
        1 => data,
        p if p >= 10 => {
            let columns = s.int(b"Columns").unwrap_or(1);
            if usize::try_from(columns).ok() != Some(row) {
                return Ok(None);
            }
            match lopdf::filters::png::decode_frame(&data, 1, row) {
                Ok(data) => data,
                Err(_) => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let size = s.int(b"Size").unwrap_or(0);
    let index = s.ints(b"Index").unwrap_or_else(|| vec![0, size]);
    let mut rows = data.chunks_exact(row);
    for pair in index.chunks_exact(2) {
        let (Ok(start), Ok(count)) = (u32::try_from(pair[0]), u32::try_from(pair[1])) else {
            return Ok(None);
        };
        budget.entries(count)?;
        for i in 0..count {
            let Some(r) = rows.next() else {
                return Ok(None);
            };
            let (kind, rest) = r.split_at(widths[0]);
            let (field2, field3) = rest.split_at(widths[1]);
            let kind = if widths[0] == 0 { 1 } else { be(kind) };
            if kind == 1 || kind == 2 {
                entries.push(Entry {
                    id: start.saturating_add(i),
                    generation: if kind == 1 {
                        u16::try_from(be(field3)).unwrap_or(u16::MAX)
                    } else {
                        0
                    },
                    offset: be(field2),
                    compressed: kind == 2,
                    index: be(field3),
                });
            }
        }
    }
    Ok(Some(()))
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// The bytes to read after a repair, the reference table to read them with, and where the
/// trailer is.
pub type Repaired = (Vec<u8>, Vec<(u32, XrefEntry)>, Option<TrailerSource>);

/// The object that holds the trailer's entries after a repair.
pub struct TrailerSource {
    pub id: (u32, u16),
    /// A classic trailer appended as an object, to be removed again.
    pub appended: bool,
}

/// Every object the scan found (the last definition of each number wins, as in qpdf's
/// reconstruction) as reference-table entries, the bytes to read them from, and the trailer
/// to use. Offsets of the original bytes stay valid. The trailer is the last one written (a
/// `trailer` dictionary or an xref stream's dictionary), so the caller can copy `/Root`,
/// `/Info`, `/ID` and `/Encrypt` from it; a classic trailer is appended as an object for lopdf
/// to parse.
pub fn repair(bytes: &[u8], scan: &Scan, chain: &Chain) -> Result<Repaired> {
    let mut latest: HashMap<u32, (u16, usize)> = HashMap::new();
    for found in scan.objects.iter().filter(|f| f.id.0 > 0) {
        latest.insert(found.id.0, (found.id.1, found.offset));
    }
    if latest.is_empty() {
        return Err(Error::PdfMalformed("no objects found in the file".into()));
    }
    // Where the readable part of the chain points at the right object it wins, so that the
    // file reads as a viewer following its xref reads it; objects in object streams come from
    // their streams.
    let objects: HashMap<usize, &Found> = scan.objects.iter().map(|f| (f.offset, f)).collect();
    let mut decided = HashSet::new();
    for e in chain.entries.iter().filter(|e| decided.insert(e.id)) {
        if e.compressed {
            latest.remove(&e.id);
        } else if let Some(at) = located(bytes, &objects, e) {
            latest.insert(e.id, (e.generation, at));
        }
    }
    let mut out = bytes.to_vec();
    let mut rows: Vec<(u32, u16, usize)> = latest
        .iter()
        .map(|(&id, &(generation, offset))| (id, generation, offset))
        .collect();

    let last_stream = scan
        .objects
        .iter()
        .rfind(|f| f.summary.has_name(b"Type", b"XRef"));
    let last_table = scan.trailers.last();
    let trailer_object = match (last_table, last_stream) {
        (Some(t), stream) if stream.is_none_or(|s| s.offset < t.start) => {
            let id = rows
                .iter()
                .map(|r| r.0)
                .max()
                .unwrap_or(0)
                .saturating_add(1);
            rows.push((id, 0, out.len() + 1));
            let _ = write!(out, "\n{id} 0 obj");
            out.extend_from_slice(&bytes[t.clone()]);
            out.extend_from_slice(b"\nendobj\n");
            Some(TrailerSource {
                id: (id, 0),
                appended: true,
            })
        }
        (_, Some(stream)) => Some(TrailerSource {
            id: stream.id,
            appended: false,
        }),
        _ => None,
    };
    let rows = rows
        .into_iter()
        .filter_map(|(id, generation, offset)| {
            let offset = u32::try_from(offset).ok()?;
            Some((id, XrefEntry::Normal { offset, generation }))
        })
        .collect();
    Ok((out, rows, trailer_object))
}
