//! Embedded Unicode fonts for the text we draw into PDFs (new documents and signature
//! appearances). The standard 14 fonts cannot show Vietnamese (WinAnsi has no ệ, ữ, ở, …), so we
//! embed Liberation Serif 2 (Times-metric, SIL OFL 1.1, see `assets/fonts/README.md`) as a
//! Type0 / Identity-H font, subset to the glyphs a document uses, with a ToUnicode CMap so the
//! text stays searchable and copyable.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use lopdf::{dictionary, Object, ObjectId};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Filter, Name, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::GlyphId;

use crate::error::{Error, Result};
use crate::pdf::object::deflate;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Bold.ttf");
static ITALIC: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Italic.ttf");

/// The font files by name, for the web pages to serve the same faces the PDFs embed.
pub static FILES: [(&str, &[u8]); 3] = [
    ("LiberationSerif-Regular.ttf", REGULAR),
    ("LiberationSerif-Bold.ttf", BOLD),
    ("LiberationSerif-Italic.ttf", ITALIC),
];

/// CIDs are glyph ids of the subset font, so the CIDFont uses the Identity ordering.
const IDENTITY: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};
/// Serif; symbolic because the glyphs go beyond the Adobe standard Latin set.
const FLAGS: FontFlags = FontFlags::SERIF.union(FontFlags::SYMBOLIC);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Face {
    Regular,
    Bold,
    /// For the place-and-date line of administrative documents.
    Italic,
}

impl Face {
    fn data(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
            Face::Italic => ITALIC,
        }
    }

    fn postscript_name(self) -> &'static str {
        match self {
            Face::Regular => "LiberationSerif",
            Face::Bold => "LiberationSerif-Bold",
            Face::Italic => "LiberationSerif-Italic",
        }
    }
}

/// Collects the text a document will show in one face, then embeds just those glyphs.
#[derive(Clone)]
pub struct FontSubset {
    face: Face,
    ttf: ttf_parser::Face<'static>,
    glyphs: &'static Glyphs,
    /// Original glyph id -> subset glyph id (= CID). Ids are assigned in first-use order and
    /// never change, so codes returned by `encode` stay valid; notdef is always CID 0.
    remapper: GlyphRemapper,
    /// CID -> the first character shown with it, for ToUnicode.
    unicode: BTreeMap<u16, char>,
    /// Characters the font lacks; remembered so each is warned about once.
    missing: BTreeSet<char>,
}

impl FontSubset {
    pub fn new(face: Face) -> Result<Self> {
        let ttf = ttf_parser::Face::parse(face.data(), 0)
            .map_err(|e| Error::internal(format!("embedded font {face:?}: {e}")))?;
        Ok(Self {
            face,
            glyphs: Glyphs::of(face, &ttf),
            ttf,
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
            missing: BTreeSet::new(),
        })
    }

    /// Advance of a glyph in 1/1000 em, the unit of PDF glyph space and of `/W`.
    fn advance(&self, gid: GlyphId) -> f32 {
        let advances = &self.glyphs.advances;
        advances.get(usize::from(gid.0)).copied().unwrap_or(0.0)
    }

    /// The glyph that shows `c`, if the face has one.
    fn glyph(&self, c: char) -> Option<GlyphId> {
        match self.glyphs.ids.get(c as usize) {
            Some(0) => None,
            Some(&id) => Some(GlyphId(id)),
            None => self.ttf.glyph_index(c),
        }
    }

    fn scale(&self, units: f32) -> f32 {
        thousandths(&self.ttf, units)
    }

    /// Width of `text` in points at `size` (from the font's advances, without kerning, exactly as
    /// a viewer will place the glyphs); for layout, wrapping and centring.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let em: f32 = text
            .chars()
            .map(|c| self.advance(self.glyph(c).unwrap_or(GlyphId(0))))
            .sum();
        em * size / 1000.0
    }

    /// Registers `text` as used and returns the bytes to put in a PDF string operand (`Tj`):
    /// 2-byte big-endian CIDs for Identity-H. One glyph per `char`, so pass NFC text (combining
    /// marks would be drawn unpositioned).
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 * text.len());
        for c in text.chars() {
            let gid = self.glyph(c).unwrap_or_else(|| {
                if self.missing.insert(c) {
                    tracing::warn!(
                        character = %c.escape_unicode(),
                        face = ?self.face,
                        "character missing from the embedded font; it is drawn as .notdef"
                    );
                }
                GlyphId(0)
            });
            let cid = self.remapper.remap(gid.0);
            if cid != 0 {
                self.unicode.entry(cid).or_insert(c);
            }
            out.extend(cid.to_be_bytes());
        }
        out
    }

    /// Registers the ten digits before any text. Dates and times change from document to
    /// document; with their digits in first, the subset does not depend on the order they
    /// appear in, so the same labels and names give the same font (made once, see
    /// [`finish`](Self::finish)).
    pub fn reserve_digits(&mut self) {
        self.encode("0123456789");
    }

    /// The embedded font, made once per glyph set: an official's signature appearance, for
    /// one, shows the same glyphs on document after document, and subsetting and compressing
    /// its font was a twentieth of an issuance.
    pub fn finish(self) -> Result<Arc<EmbeddedFont>> {
        type Made = HashMap<(Face, Vec<u16>, Vec<(u16, char)>), Arc<EmbeddedFont>>;
        static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
        let made = MADE.get_or_init(Mutex::default);
        // The glyphs in CID order and the characters they stand for make the whole font.
        let key = (
            self.face,
            self.remapper.remapped_gids().collect(),
            self.unicode.iter().map(|(&cid, &c)| (cid, c)).collect(),
        );
        if let Some(font) = made.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(font);
        }
        let font = Arc::new(self.embed()?);
        if let Ok(mut m) = made.lock() {
            if m.len() >= MADE_CAPACITY {
                m.clear();
            }
            m.insert(key, font.clone());
        }
        Ok(font)
    }

    /// Subsets the font program and builds CID widths, ToUnicode CMap and descriptor metrics,
    /// the streams compressed.
    fn embed(&self) -> Result<EmbeddedFont> {
        let font_file = subsetter::subset(self.face.data(), 0, &self.remapper)
            .map_err(|e| Error::internal(format!("subsetting {:?}: {e}", self.face)))?;
        // Only the glyphs we handed out need widths; glyphs the subsetter adds as components of
        // composite glyphs come after them and are never shown on their own.
        let widths = self
            .remapper
            .remapped_gids()
            .zip(0u16..)
            .map(|(gid, cid)| (cid, self.advance(GlyphId(gid))))
            .collect();

        let mut cmap = UnicodeCmap::new(
            Name(b"Adobe-Identity-UCS"),
            SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"UCS"),
                supplement: 0,
            },
        );
        for (&cid, &c) in &self.unicode {
            cmap.pair(cid, c);
        }

        let ttf = &self.ttf;
        let ascent = ttf.ascender();
        let b = ttf.global_bounding_box();
        let mut program = deflate(&font_file);
        program.dict.set("Length1", font_file.len() as i64);
        Ok(EmbeddedFont {
            base_font: format!("{}+{}", self.subset_tag(), self.face.postscript_name()),
            program,
            widths,
            to_unicode: deflate(&cmap.finish()),
            ascent: self.scale(ascent.into()),
            descent: self.scale(ttf.descender().into()),
            cap_height: self.scale(ttf.capital_height().unwrap_or(ascent).into()),
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max].map(|v| self.scale(v.into())),
            italic_angle: ttf.italic_angle(),
            bold: self.face == Face::Bold,
        })
    }

    /// Six capitals derived from the glyph set (PDF 32000-1 §9.6.4), so different subsets of one
    /// face get different names and the same subset always gets the same one.
    fn subset_tag(&self) -> String {
        let mut input = self.face.postscript_name().as_bytes().to_vec();
        input.extend(self.remapper.remapped_gids().flat_map(u16::to_be_bytes));
        openssl::sha::sha256(&input)[..6]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    }
}

/// Font units -> 1/1000 em, the unit of PDF glyph space and of `/W`.
fn thousandths(ttf: &ttf_parser::Face<'_>, units: f32) -> f32 {
    units * 1000.0 / f32::from(ttf.units_per_em())
}

/// Characters whose glyphs [`Glyphs`] holds: Latin, Vietnamese (U+1EA0–U+1EF9) and general
/// punctuation (U+2000–U+206F).
const TABULATED: usize = 0x2200;

/// A face's glyph ids and advances, looked up once per process: layout measures every
/// character of every line, and the font's own lookup (its cmap subtables walked each time)
/// was 4 % of an issuance.
struct Glyphs {
    /// Glyph id by character below [`TABULATED`]; 0 for none.
    ids: Vec<u16>,
    /// Advance in 1/1000 em by glyph id.
    advances: Vec<f32>,
}

impl Glyphs {
    fn of(face: Face, ttf: &ttf_parser::Face<'_>) -> &'static Glyphs {
        static TABLES: [OnceLock<Glyphs>; 3] = [const { OnceLock::new() }; 3];
        TABLES[face as usize].get_or_init(|| Glyphs {
            ids: (0..TABULATED)
                .map(|c| {
                    let c = u32::try_from(c).ok().and_then(char::from_u32);
                    c.and_then(|c| ttf.glyph_index(c)).map_or(0, |g| g.0)
                })
                .collect(),
            advances: (0..ttf.number_of_glyphs())
                .map(|g| thousandths(ttf, ttf.glyph_hor_advance(GlyphId(g)).unwrap_or(0).into()))
                .collect(),
        })
    }
}

/// Fonts remembered, at most this many; forgotten all at once when full.
const MADE_CAPACITY: usize = 256;

/// A finished subset font, ready to be written as PDF objects.
#[derive(Clone, Debug)]
pub struct EmbeddedFont {
    /// `ABCDEF+LiberationSerif`, the tag derived from a hash of the glyph set.
    pub base_font: String,
    /// Subset TrueType program for `FontFile2`, compressed, with its `/Length1`.
    pub program: lopdf::Stream,
    /// CID -> width in 1/1000 em.
    pub widths: Vec<(u16, f32)>,
    /// ToUnicode CMap stream, compressed.
    pub to_unicode: lopdf::Stream,
    /// Descriptor metrics, in 1/1000 em (except the angle, in degrees).
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    pub italic_angle: f32,
    pub bold: bool,
}

impl EmbeddedFont {
    /// Writes the Type0 font, its CIDFontType2 descendant, FontDescriptor, FontFile2 and
    /// ToUnicode into `chunk`, taking five refs from `alloc` (which is bumped past them).
    /// Returns the ref of the Type0 font dictionary, for a page's `/Font` resources.
    pub fn write(&self, chunk: &mut Chunk, alloc: &mut Ref) -> Ref {
        let [type0, cid, descriptor, file, cmap] = std::array::from_fn(|_| alloc.bump());
        let name = Name(self.base_font.as_bytes());

        chunk
            .type0_font(type0)
            .base_font(name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);

        {
            let mut font = chunk.cid_font(cid);
            font.subtype(CidFontType::Type2)
                .base_font(name)
                .system_info(IDENTITY)
                .font_descriptor(descriptor)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            let mut widths = font.widths();
            for (first, run) in self.width_runs() {
                widths.consecutive(first, run);
            }
        }

        let [x0, y0, x1, y1] = self.bbox;
        chunk
            .font_descriptor(descriptor)
            .name(name)
            .flags(FLAGS)
            .bbox(Rect::new(x0, y0, x1, y1))
            .italic_angle(self.italic_angle)
            .ascent(self.ascent)
            .descent(self.descent)
            .cap_height(self.cap_height)
            .stem_v(self.stem_v())
            .font_file2(file);

        for (id, packed) in [(file, &self.program), (cmap, &self.to_unicode)] {
            let mut stream = chunk.stream(id, &packed.content);
            if packed.dict.has(b"Filter") {
                stream.filter(Filter::FlateDecode);
            }
            if let Ok(&Object::Integer(length)) = packed.dict.get(b"Length1") {
                // A TrueType program's uncompressed length.
                stream.pair(Name(b"Length1"), length as i32);
            }
        }
        type0
    }

    /// Same objects as lopdf objects, for incremental updates of existing PDFs: `next_id` is the
    /// next free object number and is bumped; returns the Type0 font dictionary's id and all new
    /// objects.
    pub fn to_lopdf(&self, next_id: &mut u32) -> (ObjectId, Vec<(ObjectId, Object)>) {
        let [type0, cid, descriptor, file, cmap] = std::array::from_fn(|_| {
            let id = (*next_id, 0);
            *next_id += 1;
            id
        });
        let name = || Object::from(self.base_font.as_str());
        let widths: Vec<Object> = self
            .width_runs()
            .into_iter()
            .flat_map(|(first, run)| {
                let run = run.into_iter().map(Object::Real).collect::<Vec<_>>();
                [first.into(), run.into()]
            })
            .collect();

        let objects = vec![
            (
                type0,
                dictionary! {
                    "Type" => "Font",
                    "Subtype" => "Type0",
                    "BaseFont" => name(),
                    "Encoding" => "Identity-H",
                    "DescendantFonts" => vec![cid.into()],
                    "ToUnicode" => cmap,
                }
                .into(),
            ),
            (
                cid,
                dictionary! {
                    "Type" => "Font",
                    "Subtype" => "CIDFontType2",
                    "BaseFont" => name(),
                    "CIDSystemInfo" => dictionary! {
                        "Registry" => Object::string_literal(IDENTITY.registry.0),
                        "Ordering" => Object::string_literal(IDENTITY.ordering.0),
                        "Supplement" => IDENTITY.supplement,
                    },
                    "FontDescriptor" => descriptor,
                    "W" => widths,
                    "CIDToGIDMap" => "Identity",
                }
                .into(),
            ),
            (
                descriptor,
                dictionary! {
                    "Type" => "FontDescriptor",
                    "FontName" => name(),
                    "Flags" => FLAGS.bits(),
                    "FontBBox" => self.bbox.map(Object::Real).to_vec(),
                    "ItalicAngle" => self.italic_angle,
                    "Ascent" => self.ascent,
                    "Descent" => self.descent,
                    "CapHeight" => self.cap_height,
                    "StemV" => self.stem_v(),
                    "FontFile2" => file,
                }
                .into(),
            ),
            (file, self.program.clone().into()),
            (cmap, self.to_unicode.clone().into()),
        ];
        (type0, objects)
    }

    /// `/W` entries: runs of consecutive CIDs with their widths.
    fn width_runs(&self) -> Vec<(u16, Vec<f32>)> {
        let mut runs: Vec<(u16, Vec<f32>)> = Vec::new();
        for &(cid, w) in &self.widths {
            match runs.last_mut() {
                Some((first, run)) if usize::from(*first) + run.len() == usize::from(cid) => {
                    run.push(w)
                }
                _ => runs.push((cid, vec![w])),
            }
        }
        runs
    }

    /// Required by the descriptor but unused by viewers for embedded TrueType; the usual
    /// estimate from the weight class (400 / 700).
    fn stem_v(&self) -> f32 {
        let weight = if self.bold { 700.0 } else { 400.0 };
        10.0 + 0.244 * (weight - 50.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdf_writer::{Content, Pdf};
    use std::process::Command;

    const LINES: [&str; 4] = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Nguyễn Thị Ánh Tuyết, Đặc khu Cát Hải, ngày 25 tháng 11 năm 2026",
        "ỳỷỹỵ ẰẲẴẶ ữựừứử ĐđƠơƯư",
    ];

    /// Every letter of the Vietnamese alphabet with every tone, both cases.
    const VIETNAMESE: &str =
        "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ";

    fn tool(name: &str) -> bool {
        Command::new(name).arg("--version").output().is_ok()
    }

    #[test]
    fn every_face_covers_vietnamese() {
        for face in [Face::Regular, Face::Bold, Face::Italic] {
            let subset = FontSubset::new(face).unwrap();
            let all = format!("{VIETNAMESE}{}", VIETNAMESE.to_uppercase());
            let missing: String = all
                .chars()
                .filter(|&c| subset.ttf.glyph_index(c).is_none())
                .collect();
            assert_eq!(missing, "", "{face:?}");
        }
    }

    #[test]
    fn the_glyph_table_agrees_with_the_font() {
        for face in [Face::Regular, Face::Bold, Face::Italic] {
            let subset = FontSubset::new(face).unwrap();
            let ttf = &subset.ttf;
            // Past the table too, where the font itself is asked.
            for c in (0..TABULATED as u32 + 0x100).filter_map(char::from_u32) {
                let expected = ttf.glyph_index(c).filter(|g| g.0 != 0);
                assert_eq!(subset.glyph(c), expected, "{face:?} {c:?}");
                if let Some(g) = expected {
                    let advance = ttf.glyph_hor_advance(g).unwrap_or(0);
                    assert_eq!(subset.advance(g), thousandths(ttf, advance.into()));
                }
            }
        }
    }

    #[test]
    fn width_is_positive_and_monotonic() {
        let subset = FontSubset::new(Face::Regular).unwrap();
        let mut last = 0.0;
        for n in 1..=LINES[2].chars().count() {
            let prefix: String = LINES[2].chars().take(n).collect();
            let w = subset.width(&prefix, 12.0);
            assert!(w > last, "{prefix:?}: {w} <= {last}");
            last = w;
        }
        assert!((subset.width("ệ", 24.0) - 2.0 * subset.width("ệ", 12.0)).abs() < 1e-3);
        assert!(FontSubset::new(Face::Bold).unwrap().width("M", 12.0) > 0.0);
    }

    #[test]
    fn codes_are_stable_and_missing_characters_become_notdef() {
        let mut subset = FontSubset::new(Face::Regular).unwrap();
        let first = subset.encode("ệ");
        subset.encode("ABCữ");
        assert_eq!(subset.encode("ệ"), first);
        assert_eq!(first, [0, 1]);
        assert_eq!(subset.encode("中"), [0, 0]);
        let font = subset.finish().unwrap();
        let cmap = String::from_utf8(font.to_unicode.decompressed_content().unwrap()).unwrap();
        assert!(cmap.contains("<0001> <1EC7>"), "{cmap}");
        // ệ A B C ữ, but not notdef.
        assert!(cmap.contains("5 beginbfchar"), "{cmap}");
    }

    #[test]
    fn a_glyph_set_is_made_into_a_font_once() {
        let font = |text: &str| {
            let mut subset = FontSubset::new(Face::Italic).unwrap();
            subset.reserve_digits();
            subset.encode(text);
            subset.finish().unwrap()
        };
        let first = font("Ký bởi: Nguyễn Văn An, 01/12/2026 10:15:00");
        // Other digits, the same glyphs: the same font.
        assert!(Arc::ptr_eq(
            &first,
            &font("Ký bởi: Nguyễn Văn An, 30/11/2026 09:47:31")
        ));
        let other = font("Ký bởi: Trần Thị Bình, 01/12/2026 10:15:00");
        assert!(!Arc::ptr_eq(&first, &other));
        assert_ne!(first.base_font, other.base_font);
    }

    #[test]
    fn subset_reparses() {
        let mut subset = FontSubset::new(Face::Bold).unwrap();
        let codes = subset.encode(LINES[0]);
        let font = subset.finish().unwrap();
        let program = font.program.decompressed_content().unwrap();
        let face = ttf_parser::Face::parse(&program, 0).unwrap();
        let max_cid = codes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .max();
        assert!(face.number_of_glyphs() > max_cid.unwrap());
        assert!(program.len() < BOLD.len() / 10);
        let length1 = font.program.dict.get(b"Length1").unwrap().as_i64().unwrap();
        assert_eq!(length1, program.len() as i64);
        assert!(font.bold && font.ascent > 0.0 && font.descent < 0.0);
        let (tag, name) = font.base_font.split_once('+').unwrap();
        assert_eq!(name, "LiberationSerif-Bold");
        assert!(tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn pdf_text_round_trips() {
        let mut regular = FontSubset::new(Face::Regular).unwrap();
        let mut bold = FontSubset::new(Face::Bold).unwrap();
        let (width, size) = (595.28, 13.0);
        let mut content = Content::new();
        for (i, line) in LINES.iter().enumerate() {
            let (font, name) = if i == 0 {
                (&mut bold, Name(b"F2"))
            } else {
                (&mut regular, Name(b"F1"))
            };
            // Centred with width(), as the real layout code will do.
            let x = (width - font.width(line, size)) / 2.0;
            content
                .begin_text()
                .set_font(name, size)
                .next_line(x, 780.0 - 30.0 * i as f32)
                .show(Str(&font.encode(line)))
                .end_text();
        }

        let mut alloc = Ref::new(1);
        let [catalog, pages, page, contents] = std::array::from_fn(|_| alloc.bump());
        let mut pdf = Pdf::new();
        let f1 = regular.finish().unwrap().write(&mut pdf, &mut alloc);
        let f2 = bold.finish().unwrap().write(&mut pdf, &mut alloc);
        pdf.catalog(catalog).pages(pages);
        pdf.pages(pages).kids([page]).count(1);
        let mut p = pdf.page(page);
        p.parent(pages)
            .media_box(Rect::new(0.0, 0.0, width, 841.89))
            .contents(contents);
        p.resources()
            .fonts()
            .pair(Name(b"F1"), f1)
            .pair(Name(b"F2"), f2);
        drop(p);
        pdf.stream(contents, &content.finish());
        let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
        std::fs::write(file.path(), pdf.finish()).unwrap();

        if tool("pdftotext") {
            let out = Command::new("pdftotext")
                .args(["-layout".as_ref(), file.path().as_os_str(), "-".as_ref()])
                .output()
                .unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            let got: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            assert_eq!(got, LINES);
        } else {
            eprintln!("pdftotext not installed; skipping the text extraction check");
        }
        if tool("qpdf") {
            let out = Command::new("qpdf")
                .arg("--check")
                .arg(file.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        } else {
            eprintln!("qpdf not installed; skipping the structure check");
        }
    }

    #[test]
    fn lopdf_objects_reference_each_other() {
        let mut subset = FontSubset::new(Face::Regular).unwrap();
        subset.encode(LINES[1]);
        let font = subset.finish().unwrap();
        let mut next_id = 40;
        let (type0, objects) = font.to_lopdf(&mut next_id);
        assert_eq!(next_id, 45);
        let ids: Vec<ObjectId> = objects.iter().map(|(id, _)| *id).collect();
        let get = |id| &objects.iter().find(|(i, _)| *i == id).unwrap().1;
        let dict = get(type0).as_dict().unwrap();
        assert_eq!(dict.get(b"Subtype").unwrap().as_name().unwrap(), b"Type0");
        let cid = dict.get(b"DescendantFonts").unwrap().as_array().unwrap()[0]
            .as_reference()
            .unwrap();
        let cmap = dict.get(b"ToUnicode").unwrap().as_reference().unwrap();
        assert!(ids.contains(&cid) && ids.contains(&cmap));
        let plain = get(cmap).as_stream().unwrap().get_plain_content().unwrap();
        assert_eq!(plain, font.to_unicode.decompressed_content().unwrap());
        let descriptor = get(cid).as_dict().unwrap().get(b"FontDescriptor").unwrap();
        let descriptor = get(descriptor.as_reference().unwrap()).as_dict().unwrap();
        let file = descriptor
            .get(b"FontFile2")
            .unwrap()
            .as_reference()
            .unwrap();
        let program = get(file).as_stream().unwrap();
        assert_eq!(
            program.get_plain_content().unwrap(),
            font.program.decompressed_content().unwrap()
        );
    }
}
