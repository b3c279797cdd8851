//! Unsigned input PDFs written in the different ways real-world producers write them, so the
//! signer is tested against more than one cross-reference layout.
//!
//! Every fixture has the same content: two A4 pages in Helvetica, page `n` showing
//! [`page_text`]`(n)`, an `/Info` dictionary with [`TITLE`]. The base file is written with
//! `pdf-writer`; the other layouts are derived from it with `qpdf`, except [`XrefStyle::Hybrid`],
//! which is assembled byte by byte here because no tool at hand writes hybrid files.
//!
//! Self-contained (std, `pdf-writer`, `tempfile`, the `qpdf` binary) so benches can include it
//! with `#[path = "../tests/api/fixtures.rs"] mod fixtures;`.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

/// `/Title` of every fixture's `/Info` dictionary.
pub const TITLE: &str = "kyso test fixture";

/// The line of text shown on page `page` (1-based) of every fixture.
pub fn page_text(page: usize) -> String {
    format!("kyso fixture page {page} of 2 - Giay khai sinh (ban sao)")
}

/// How a fixture lays out its cross-reference data (ISO 32000-1 §7.5.4, §7.5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefStyle {
    /// A classic `xref` table and `trailer` (pdf-writer's own output).
    Classic,
    /// A cross-reference stream, with most objects packed into object streams
    /// (`qpdf --object-streams=generate`).
    Stream,
    /// A hybrid-reference file (§7.5.8.4): a classic table whose trailer carries `/XRefStm`
    /// pointing to a cross-reference stream that alone lists the objects kept in an object
    /// stream (here the `/Info` dictionary and the font dictionary).
    Hybrid,
    /// A linearized ("fast web view") file (`qpdf --linearize`).
    Linearized,
}

impl XrefStyle {
    pub const ALL: [XrefStyle; 4] = [
        XrefStyle::Classic,
        XrefStyle::Stream,
        XrefStyle::Hybrid,
        XrefStyle::Linearized,
    ];
}

/// The two-page sample document in the given cross-reference layout.
pub fn sample_pdf(style: XrefStyle) -> Vec<u8> {
    match style {
        XrefStyle::Classic => classic(),
        XrefStyle::Stream => qpdf_rewrite(&classic(), &["--object-streams=generate"]),
        XrefStyle::Hybrid => hybrid(),
        XrefStyle::Linearized => qpdf_rewrite(&classic(), &["--linearize"]),
    }
}

/// The sample document padded to about `target_bytes` (classic xref table): the first page
/// also draws an uncompressed RGB image filled with pseudo-random bytes, sized so the whole
/// file lands within a few bytes of the target (for targets above ~2 KB).
/// Deterministic for a given size.
pub fn sample_pdf_of_size(target_bytes: usize) -> Vec<u8> {
    let base = document(None).len();
    // First guess from the image-free document, then correct for what the image object and
    // the digits of its dimensions actually cost.
    let mut pixels = target_bytes.saturating_sub(base + 200) / 3;
    let mut pdf = sized_document(pixels.max(1), target_bytes);
    for _ in 0..3 {
        let error = target_bytes as i64 - pdf.len() as i64;
        if error.abs() < 3 {
            break;
        }
        pixels = (pixels as i64 + error / 3).max(1) as usize;
        pdf = sized_document(pixels, target_bytes);
    }
    pdf
}

/// The document with an image of about `pixels` pixels (the nearest count at or below it that
/// makes a rectangle no more elongated than 16:1, so the file size is exact to the pixel).
fn sized_document(pixels: usize, seed: usize) -> Vec<u8> {
    let (width, height) = (1..=pixels).rev().find_map(image_shape).unwrap_or((1, 1));
    let mut data = vec![0u8; width * height * 3];
    // xorshift64: incompressible filler, no rand crate needed.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ seed as u64;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    document(Some((width, height, &data)))
}

/// `(width, height)` with `width * height == pixels` and `height / width` at most about 16.
fn image_shape(pixels: usize) -> Option<(usize, usize)> {
    let root = ((pixels as f64).sqrt() as usize).max(1);
    (root / 4..=root)
        .rev()
        .find(|&width| width > 0 && pixels.is_multiple_of(width))
        .map(|width| (width, pixels / width))
}

// ---------------------------------------------------------------------------------------------
// The base document (pdf-writer)

const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
const PAGES: [Ref; 2] = [Ref::new(3), Ref::new(4)];
const CONTENTS: [Ref; 2] = [Ref::new(5), Ref::new(6)];
const FONT: Ref = Ref::new(7);
const INFO: Ref = Ref::new(8);
const IMAGE: Ref = Ref::new(9);
const FONT_NAME: Name<'static> = Name(b"F1");
const IMAGE_NAME: Name<'static> = Name(b"Im1");

fn classic() -> Vec<u8> {
    document(None)
}

/// Writes the document; with `image` (width, height, raw 8-bit RGB samples) the first page
/// also shows it as an uncompressed image XObject.
fn document(image: Option<(usize, usize, &[u8])>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.catalog(CATALOG).pages(PAGE_TREE);
    pdf.pages(PAGE_TREE).kids(PAGES).count(2);

    for (index, (&page_id, &content_id)) in PAGES.iter().zip(CONTENTS.iter()).enumerate() {
        let with_image = image.is_some() && index == 0;
        {
            let mut page = pdf.page(page_id);
            page.parent(PAGE_TREE)
                .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
                .contents(content_id);
            let mut resources = page.resources();
            resources.fonts().pair(FONT_NAME, FONT);
            if with_image {
                resources.x_objects().pair(IMAGE_NAME, IMAGE);
            }
        }
        pdf.stream(content_id, &page_content(index + 1, with_image));
    }

    pdf.type1_font(FONT)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    pdf.document_info(INFO)
        .title(TextStr(TITLE))
        .author(TextStr("kyso test suite"))
        .creator(TextStr("pdf-writer 0.13"))
        .producer(TextStr("kyso tests/api/fixtures.rs"));

    if let Some((width, height, data)) = image {
        let mut xobject = pdf.image_xobject(IMAGE, data);
        xobject.width(i32::try_from(width).unwrap_or(i32::MAX));
        xobject.height(i32::try_from(height).unwrap_or(i32::MAX));
        xobject.color_space().device_rgb();
        xobject.bits_per_component(8);
    }

    pdf.finish()
}

fn page_content(page: usize, with_image: bool) -> Vec<u8> {
    let mut content = Content::new();
    content
        .begin_text()
        .set_font(FONT_NAME, 14.0)
        .next_line(72.0, 770.0)
        .show(Str(page_text(page).as_bytes()))
        .end_text();
    content
        .begin_text()
        .set_font(FONT_NAME, 10.0)
        .next_line(72.0, 750.0)
        .show(Str(b"UBND xa Tan Phu - unsigned input for signing tests"))
        .end_text();
    if with_image {
        content
            .save_state()
            .transform([451.0, 0.0, 0.0, 400.0, 72.0, 300.0])
            .x_object(IMAGE_NAME)
            .restore_state();
    }
    content.finish().into_vec()
}

// ---------------------------------------------------------------------------------------------
// The hybrid-reference file, by hand

/// Object numbers in the hybrid file: 1–6 as in the base document, then the object stream
/// holding the font (7) and the `/Info` dictionary (8), then the cross-reference stream.
const HYBRID_OBJSTM: i32 = 9;
const HYBRID_XREFSTM: i32 = 10;
const HYBRID_SIZE: i32 = 11;

fn hybrid() -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(b"%PDF-1.5\n%\xE2\xE3\xCF\xD3\n");
    let mut offsets: Vec<(i32, usize)> = Vec::new();

    let mut object = |out: &mut Vec<u8>, id: i32, body: &[u8]| {
        offsets.push((id, out.len()));
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };

    object(&mut out, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(
        &mut out,
        2,
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    );
    for (index, content_id) in [5, 6].into_iter().enumerate() {
        let page = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 7 0 R >> >> /Contents {content_id} 0 R >>"
        );
        object(&mut out, 3 + index as i32, page.as_bytes());
    }
    for (index, content_id) in [5, 6].into_iter().enumerate() {
        object(
            &mut out,
            content_id,
            &stream(b"", &page_content(index + 1, false)),
        );
    }

    // Object stream with the font (7) and the /Info dictionary (8).
    let compressed: [(i32, String); 2] = [
        (
            7,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_owned(),
        ),
        (
            8,
            format!(
                "<< /Title ({TITLE}) /Author (kyso test suite) \
                 /Producer (kyso tests/api/fixtures.rs, hybrid-reference by hand) >>"
            ),
        ),
    ];
    let mut header = String::new();
    let mut bodies = String::new();
    for (id, body) in &compressed {
        header.push_str(&format!("{id} {} ", bodies.len()));
        bodies.push_str(body);
        bodies.push('\n');
    }
    let first = header.len();
    let objstm_data = format!("{header}{bodies}");
    object(
        &mut out,
        HYBRID_OBJSTM,
        &stream(
            format!("/Type /ObjStm /N {} /First {first}", compressed.len()).as_bytes(),
            objstm_data.as_bytes(),
        ),
    );

    // Cross-reference stream listing only the compressed objects (type 2 entries).
    let xrefstm_offset = out.len();
    let mut entries = Vec::new();
    for (index, _) in compressed.iter().enumerate() {
        entries.push(2u8);
        entries.extend_from_slice(&(HYBRID_OBJSTM as u32).to_be_bytes());
        entries.extend_from_slice(&(index as u16).to_be_bytes());
    }
    object(
        &mut out,
        HYBRID_XREFSTM,
        &stream(
            format!(
                "/Type /XRef /Size {HYBRID_SIZE} /Index [{} {}] /W [1 4 2]",
                compressed[0].0,
                compressed.len()
            )
            .as_bytes(),
            &entries,
        ),
    );

    // Classic table listing everything except the compressed objects, which must be absent
    // (not marked free): readers take the table's entries first and consult /XRefStm only for
    // objects the table does not mention (poppler ignores a stream entry once the table has
    // one, even a free one). A PDF 1.4 reader thus sees the /Info dictionary and the font as
    // missing, i.e. null — which is why producers only compress objects they can do without.
    let table_offset = out.len();
    out.extend_from_slice(b"xref\n");
    let compressed_ids: Vec<i32> = compressed.iter().map(|(id, _)| *id).collect();
    let listed: Vec<i32> = (0..HYBRID_SIZE)
        .filter(|id| !compressed_ids.contains(id))
        .collect();
    // Subsections of consecutive object numbers.
    for run in listed.chunk_by(|a, b| b - a == 1) {
        out.extend_from_slice(format!("{} {}\n", run[0], run.len()).as_bytes());
        for &id in run {
            if id == 0 {
                out.extend_from_slice(b"0000000000 65535 f\r\n");
            } else {
                let offset = offsets
                    .iter()
                    .find(|(object_id, _)| *object_id == id)
                    .map(|(_, offset)| *offset)
                    .unwrap_or_else(|| panic!("hybrid fixture: object {id} was not written"));
                out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
            }
        }
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {HYBRID_SIZE} /Root 1 0 R /Info 8 0 R /XRefStm {xrefstm_offset} >>\n\
             startxref\n{table_offset}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

/// `<< extra /Length n >>\nstream\n…\nendstream` (no filter).
fn stream(extra_dict: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    out.extend_from_slice(b"<< ");
    if !extra_dict.is_empty() {
        out.extend_from_slice(extra_dict);
        out.push(b' ');
    }
    out.extend_from_slice(format!("/Length {} >>\nstream\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

// ---------------------------------------------------------------------------------------------
// qpdf

pub fn qpdf_rewrite(pdf: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("fixtures: temp dir: {e}"));
    let input = dir.path().join("in.pdf");
    let output = dir.path().join("out.pdf");
    std::fs::write(&input, pdf)
        .unwrap_or_else(|e| panic!("fixtures: writing {}: {e}", input.display()));
    let result = Command::new("qpdf")
        .args(args)
        .arg(&input)
        .arg(&output)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("fixtures: cannot run `qpdf` ({e}); install the test tools with `.ci/setup`")
        });
    // qpdf exits 3 for "succeeded with warnings"; the fixtures must be warning-free.
    if !result.status.success() {
        panic!(
            "fixtures: qpdf {args:?} failed ({}):\n{}{}",
            result.status,
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    std::fs::read(&output).unwrap_or_else(|e| panic!("fixtures: reading qpdf output: {e}"))
}

/// A two-page document written by LibreOffice (`soffice --headless --convert-to pdf`): its
/// page boxes are reals such as `595.303937007874`, which a rewrite must keep as written.
pub fn libreoffice_pdf() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("fixtures: temp dir: {e}"));
    let text: String = (1..=90)
        .map(|i| format!("Dong {i}: van ban thu nghiem cua kyso.\n"))
        .collect();
    let input = dir.path().join("letter.txt");
    std::fs::write(&input, text).unwrap_or_else(|e| panic!("fixtures: writing input: {e}"));
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let result = Command::new("soffice")
        .arg(profile)
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("fixtures: cannot run `soffice` ({e}); install the test tools with `.ci/setup`")
        });
    let output = dir.path().join("letter.pdf");
    std::fs::read(&output).unwrap_or_else(|e| {
        panic!(
            "fixtures: soffice wrote no PDF ({e}, {}):\n{}{}",
            result.status,
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        )
    })
}
