//! The pre-filled written request to the CA (Decree 68/2024: Mẫu 01 for a person, Mẫu 02 for an
//! agency, Mẫu 03 for a device): A4, Vietnamese, searchable text. The wording of the official
//! forms is to confirm, so every line comes from the caller's `RequestForm`, none is fixed here
//! beyond the national motto.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::error::Result;
use crate::pdf::font::{Face, FontSubset};

const A4: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 70.0;

/// Everything printed on the form, already in words.
#[derive(Debug, Clone)]
pub struct RequestForm {
    /// `Mẫu 01`
    pub form: String,
    /// The issuing authority, top left (`UBND PHƯỜNG THÀNH ĐÔNG`).
    pub agency: String,
    /// `Hải Phòng, ngày 25 tháng 11 năm 2026`
    pub place_and_date: String,
    /// `ĐỀ NGHỊ CẤP MỚI CHỨNG THƯ CHỮ KÝ SỐ`
    pub title: String,
    pub addressee: String,
    /// (label, value) lines of the body.
    pub fields: Vec<(String, String)>,
    /// Signature block heading (`THỦ TRƯỞNG CƠ QUAN`) and its hint.
    pub signature_title: String,
    pub signature_hint: String,
    /// Small print at the foot (the request id, for tracking).
    pub footer: String,
}

enum Align {
    Left,
    Center,
    /// Centred in the right half, as Vietnamese administrative documents place the date.
    RightHalf,
}

struct Writer {
    regular: FontSubset,
    bold: FontSubset,
    content: Content,
    y: f32,
}

impl Writer {
    fn line(&mut self, text: &str, bold: bool, size: f32, align: Align) {
        let font = if bold {
            &mut self.bold
        } else {
            &mut self.regular
        };
        let width = font.width(text, size);
        let x = match align {
            Align::Left => MARGIN,
            Align::Center => (A4.0 - width) / 2.0,
            Align::RightHalf => A4.0 * 0.75 - width / 2.0 - MARGIN / 4.0,
        };
        let bytes = font.encode(text);
        self.content
            .begin_text()
            .set_font(Name(if bold { b"F2" } else { b"F1" }), size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
        self.y -= size * 1.45;
    }

    /// `label: value`, the value wrapped at word boundaries to the text width.
    fn field(&mut self, label: &str, value: &str, size: f32) {
        let max = A4.0 - 2.0 * MARGIN;
        let mut line = format!("{label}: ");
        for word in value.split_whitespace() {
            let candidate = format!("{line}{word} ");
            if self.regular.width(candidate.trim_end(), size) > max && !line.trim().is_empty() {
                self.line(line.trim_end(), false, size, Align::Left);
                line = format!("    {word} ");
            } else {
                line = candidate;
            }
        }
        self.line(line.trim_end(), false, size, Align::Left);
    }
}

pub fn render(form: &RequestForm) -> Result<Vec<u8>> {
    let mut w = Writer {
        regular: FontSubset::new(Face::Regular)?,
        bold: FontSubset::new(Face::Bold)?,
        content: Content::new(),
        y: A4.1 - 60.0,
    };
    w.line(&form.form, true, 11.0, Align::Left);
    w.line(&form.agency, true, 12.0, Align::Left);
    w.y += 12.0 * 1.45 * 2.0;
    w.line(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        true,
        12.0,
        Align::RightHalf,
    );
    w.line("Độc lập - Tự do - Hạnh phúc", true, 12.0, Align::RightHalf);
    w.y -= 10.0;
    w.line(&form.place_and_date, false, 12.0, Align::RightHalf);
    w.y -= 20.0;
    w.line(&form.title, true, 14.0, Align::Center);
    w.y -= 6.0;
    w.line(&form.addressee, false, 13.0, Align::Center);
    w.y -= 14.0;
    for (label, value) in &form.fields {
        w.field(label, value, 13.0);
    }
    w.y -= 30.0;
    w.line(&form.signature_title, true, 13.0, Align::RightHalf);
    w.line(&form.signature_hint, false, 11.0, Align::RightHalf);
    w.y = 50.0;
    w.line(&form.footer, false, 9.0, Align::Left);

    let mut alloc = Ref::new(1);
    let [catalog, pages, page, contents, info] = std::array::from_fn(|_| alloc.bump());
    let mut pdf = Pdf::new();
    let mut fonts = pdf_writer::Chunk::new();
    let regular = w.regular.finish()?.write(&mut fonts, &mut alloc);
    let bold = w.bold.finish()?.write(&mut fonts, &mut alloc);
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    {
        let mut p = pdf.page(page);
        p.parent(pages)
            .media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
            .contents(contents);
        p.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        p.finish();
    }
    pdf.stream(contents, &w.content.finish());
    pdf.document_info(info)
        .title(TextStr(&form.title))
        .creator(TextStr("kyso"));
    pdf.extend(&fonts);
    Ok(pdf.finish())
}
