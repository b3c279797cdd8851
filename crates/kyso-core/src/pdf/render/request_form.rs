//! The pre-filled written request to the CA (Decree 68/2024: Mẫu 01 for a person, Mẫu 02 for an
//! agency, Mẫu 03 for a device): A4, Vietnamese, searchable text. The wording of the official
//! forms is to confirm, so every line comes from the caller's `RequestForm`, none is fixed here
//! beyond the national motto.

use chrono::{DateTime, FixedOffset};

use super::canvas::{Canvas, A4};
use super::{write_pdf, Info};
use crate::error::Result;
use crate::pdf::font::Face;

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

/// Draws top to bottom on one A4 page of the shared canvas.
struct Writer {
    canvas: Canvas,
    y: f32,
}

impl Writer {
    fn line(&mut self, face: Face, size: f32, text: &str, x: Option<f32>) {
        match x {
            Some(x) => self.canvas.text(face, size, x, self.y, text),
            None => {
                self.canvas.centered(face, size, A4[0] / 2.0, self.y, text);
            }
        }
        self.y -= size * 1.45;
    }

    /// Centred in the right half, as Vietnamese administrative documents place the motto,
    /// the date and the signature block.
    fn right_half(&mut self, face: Face, size: f32, text: &str) {
        self.canvas
            .centered(face, size, A4[0] * 0.75 - MARGIN / 4.0, self.y, text);
        self.y -= size * 1.45;
    }

    /// `label: value`, wrapped to the text width, continuation lines indented.
    fn field(&mut self, label: &str, value: &str, size: f32) {
        let text = format!("{label}: {value}");
        let lines = self
            .canvas
            .wrap(Face::Regular, size, A4[0] - 2.0 * MARGIN, &text);
        for (i, line) in lines.iter().enumerate() {
            let indent = if i == 0 { 0.0 } else { 20.0 };
            self.line(Face::Regular, size, line, Some(MARGIN + indent));
        }
    }
}

pub fn render(form: &RequestForm, created: DateTime<FixedOffset>) -> Result<Vec<u8>> {
    let mut w = Writer {
        canvas: Canvas::new()?,
        y: A4[1] - 60.0,
    };
    w.line(Face::Bold, 11.0, &form.form, Some(MARGIN));
    w.line(Face::Bold, 12.0, &form.agency, Some(MARGIN));
    w.y += 12.0 * 1.45 * 2.0;
    w.right_half(Face::Bold, 12.0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    w.right_half(Face::Bold, 12.0, "Độc lập - Tự do - Hạnh phúc");
    w.y -= 10.0;
    w.right_half(Face::Italic, 12.0, &form.place_and_date);
    w.y -= 20.0;
    w.line(Face::Bold, 14.0, &form.title, None);
    w.y -= 6.0;
    w.line(Face::Regular, 13.0, &form.addressee, None);
    w.y -= 14.0;
    for (label, value) in &form.fields {
        w.field(label, value, 13.0);
    }
    w.y -= 30.0;
    w.right_half(Face::Bold, 13.0, &form.signature_title);
    w.right_half(Face::Italic, 11.0, &form.signature_hint);
    w.y = 50.0;
    w.line(Face::Regular, 9.0, &form.footer, Some(MARGIN));
    let info = Info {
        title: &form.title,
        author: &form.agency,
        subject: &form.form,
        created,
    };
    Ok(write_pdf(&w.canvas.finish()?, A4, &info))
}
