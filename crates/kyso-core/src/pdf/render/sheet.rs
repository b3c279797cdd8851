//! One layout for every civil-status form (trích lục, giấy xác nhận), after the printed forms:
//! the authority and its references at the top left, the national motto at the top right, a
//! centred title, labelled lines, the place-and-date line, the signer's block with room for the
//! signature, and the lookup QR code at the foot of the first page. The forms differ only in the
//! data they hand over.

use super::canvas::{Canvas, A4};
use super::{write_pdf, Info};
use crate::error::Result;
use crate::pdf::font::Face;

pub struct Sheet {
    /// `UBND PHƯỜNG THÀNH ĐÔNG`.
    pub authority: String,
    /// `Số: …` under the authority: the document's own number.
    pub references: Vec<String>,
    /// `Thành Đông, ngày 25 tháng 11 năm 2026`.
    pub place_date: String,
    pub title: String,
    pub body: Vec<Line>,
    /// Bold lines above the signature (`NGƯỜI KÝ TRÍCH LỤC`, the signer's title).
    pub signer_heading: Vec<String>,
    pub signer_name: String,
    /// Where the QR code points.
    pub lookup_url: String,
    /// Small print beside the QR code (lookup code and address).
    pub lookup_lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Line {
    /// `label: value`, the value wrapped under itself.
    Field(String, String),
    /// Several short fields on one line when they fit, else one per line.
    Fields(Vec<(String, String)>),
    /// A bold heading inside the body (`Thông tin người cha`).
    Heading(String),
    /// Running text, wrapped across the width.
    Text(String),
    /// Bold text centred on the page (`XÁC NHẬN:`).
    Centered(String),
}

/// The rendered form and where the official's visible signature goes.
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// 1-based page and [x1, y1, x2, y2] of the space left for the signature.
    pub signature_page: u32,
    pub signature_rect: [f32; 4],
}

const LEFT: f32 = 76.5; // 27 mm, the binding side
const RIGHT: f32 = 56.7; // 20 mm
const TOP: f32 = 62.0;
const BOTTOM: f32 = 56.7;
const SIZE: f32 = 13.0;
const LEADING: f32 = 19.5;
const QR_SIDE: f32 = 62.0;
/// Room the signer's block needs below the body.
const SIGNATURE_BLOCK: f32 = 130.0;

pub fn render(sheet: &Sheet, info: &Info<'_>) -> Result<Rendered> {
    let mut c = Canvas::new()?;
    let [page_w, page_h] = A4;
    let width = page_w - LEFT - RIGHT;
    let left_cx = LEFT + 95.0;
    let right_cx = page_w - RIGHT - 135.0;

    // Header, left: authority, a short rule, the references.
    let mut y = page_h - TOP;
    for line in c.wrap(Face::Bold, 12.0, 190.0, &sheet.authority) {
        c.centered(Face::Bold, 12.0, left_cx, y, &line);
        y -= 15.0;
    }
    c.rule(left_cx - 30.0, left_cx + 30.0, y + 10.0, 0.6);
    y -= 8.0;
    for reference in &sheet.references {
        c.centered(Face::Regular, 12.0, left_cx, y, reference);
        y -= 16.0;
    }
    let left_bottom = y;

    // Header, right: the motto with its rule, then the place and date.
    let mut y = page_h - TOP;
    c.centered(
        Face::Bold,
        12.0,
        right_cx,
        y,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    );
    y -= 16.0;
    let motto = c.centered(Face::Bold, 13.0, right_cx, y, "Độc lập - Tự do - Hạnh phúc");
    c.rule(right_cx - motto / 2.0, right_cx + motto / 2.0, y - 4.0, 0.6);
    y -= 30.0;
    c.centered(Face::Italic, 12.5, right_cx, y, &sheet.place_date);

    // Title.
    let mut y = left_bottom.min(y) - 34.0;
    for line in c.wrap(Face::Bold, 15.0, width, &sheet.title) {
        c.centered(Face::Bold, 15.0, LEFT + width / 2.0, y, &line);
        y -= 20.0;
    }
    y -= 14.0;

    // QR code and its small print at the foot of the first page.
    c.qr(LEFT, BOTTOM, QR_SIDE, &sheet.lookup_url)?;
    let mut small_y = BOTTOM + QR_SIDE - 9.0;
    for line in &sheet.lookup_lines {
        c.text(Face::Regular, 9.0, LEFT + QR_SIDE + 8.0, small_y, line);
        small_y -= 12.0;
    }
    let mut floor = BOTTOM + QR_SIDE + 12.0;
    let mut page = 1;

    let next_line = |c: &mut Canvas, y: &mut f32, floor: &mut f32, page: &mut u32| {
        *y -= LEADING;
        if *y < *floor {
            c.new_page();
            *page += 1;
            *y = page_h - TOP;
            *floor = BOTTOM;
        }
    };

    for line in &sheet.body {
        match line {
            Line::Field(label, value) => {
                let label = format!("{label}: ");
                let indent = c.width(Face::Regular, SIZE, &label);
                c.text(Face::Regular, SIZE, LEFT, y, &label);
                let lines = c.wrap(Face::Regular, SIZE, width - indent, value);
                for (i, text) in lines.iter().enumerate() {
                    if i > 0 {
                        next_line(&mut c, &mut y, &mut floor, &mut page);
                    }
                    c.text(Face::Regular, SIZE, LEFT + indent, y, text);
                }
            }
            Line::Fields(fields) => {
                let column = width / fields.len().max(1) as f32;
                let texts: Vec<String> = fields.iter().map(|(l, v)| format!("{l}: {v}")).collect();
                let fit = texts
                    .iter()
                    .all(|t| c.width(Face::Regular, SIZE, t) <= column - 8.0);
                for (i, text) in texts.iter().enumerate() {
                    if fit {
                        c.text(Face::Regular, SIZE, LEFT + i as f32 * column, y, text);
                    } else {
                        if i > 0 {
                            next_line(&mut c, &mut y, &mut floor, &mut page);
                        }
                        for (j, part) in c.wrap(Face::Regular, SIZE, width, text).iter().enumerate()
                        {
                            if j > 0 {
                                next_line(&mut c, &mut y, &mut floor, &mut page);
                            }
                            c.text(Face::Regular, SIZE, LEFT, y, part);
                        }
                    }
                }
            }
            Line::Heading(text) => c.text(Face::Bold, SIZE, LEFT, y, text),
            Line::Centered(text) => {
                c.centered(Face::Bold, SIZE, LEFT + width / 2.0, y, text);
            }
            Line::Text(text) => {
                for (i, part) in c.wrap(Face::Regular, SIZE, width, text).iter().enumerate() {
                    if i > 0 {
                        next_line(&mut c, &mut y, &mut floor, &mut page);
                    }
                    c.text(Face::Regular, SIZE, LEFT, y, part);
                }
            }
        }
        next_line(&mut c, &mut y, &mut floor, &mut page);
    }

    // The signer's block, kept whole on one page.
    if y - SIGNATURE_BLOCK < floor {
        c.new_page();
        page += 1;
        y = page_h - TOP;
    }
    let sign_cx = LEFT + width * 0.72;
    y -= 6.0;
    for heading in &sheet.signer_heading {
        c.centered(Face::Bold, SIZE, sign_cx, y, heading);
        y -= 17.0;
    }
    let rect = [sign_cx - 105.0, y - 72.0, sign_cx + 105.0, y - 6.0];
    y -= 92.0;
    c.centered(Face::Bold, SIZE, sign_cx, y, &sheet.signer_name);

    Ok(Rendered {
        pdf: write_pdf(&c.finish()?, A4, info),
        signature_page: page,
        signature_rect: rect,
    })
}
