//! The certification statement (lời chứng) of a certified copy: either a page of its own after
//! the scanned pages, or a framed stamp at the foot of the last page.

use super::canvas::{Canvas, Drawing, A4};
use crate::error::Result;
use crate::pdf::font::Face;

pub struct Statement {
    /// `UBND PHƯỜNG THÀNH ĐÔNG`.
    pub authority: String,
    /// `Chứng thực bản sao đúng với bản chính`.
    pub text: String,
    /// `Số chứng thực: 12/ĐT`.
    pub number: String,
    /// `Quyển số: 2026-SCTĐT/BS`.
    pub book: String,
    /// `Ngày 25 tháng 11 năm 2026`.
    pub date: String,
    /// `Người thực hiện chứng thực`.
    pub certifier_heading: String,
    pub certifier_title: String,
    pub certifier_name: String,
    pub lookup_url: String,
    pub lookup_lines: Vec<String>,
}

/// The drawn statement and where the certifier's visible signature goes on its page.
pub struct Drawn {
    pub drawing: Drawing,
    pub signature_rect: [f32; 4],
}

const BLOCK_WIDTH: f32 = 300.0;
/// The block's lines, signature space, QR code and the agency's area, with a margin.
const BLOCK_HEIGHT: f32 = 310.0;
const QR_SIDE: f32 = 58.0;

/// The area kept for the agency's signature (its name and signing time, as Decree 30/2020
/// shows it on copies), under the QR code, the width of the certifier's signature. It is part
/// of the statement (its page, or its stamp's white ground), so it covers nothing of the scan.
/// Derived from the certifier's signature rectangle, which a later seal reads from the PDF.
pub fn agency_rect(signature: [f32; 4]) -> [f32; 4] {
    let [x1, _, x2, y2] = signature;
    [x1, y2 - 178.0, x2, y2 - 140.0]
}

/// An A4 page: the authority and the motto, then the statement.
pub fn page(st: &Statement) -> Result<Drawn> {
    let mut c = Canvas::new()?;
    let [w, h] = A4;
    let (left_cx, right_cx) = (76.5 + 95.0, w - 56.7 - 135.0);
    let top = h - 62.0;
    c.centered(Face::Bold, 12.0, left_cx, top, &st.authority);
    c.rule(left_cx - 30.0, left_cx + 30.0, top - 5.0, 0.6);
    c.centered(
        Face::Bold,
        12.0,
        right_cx,
        top,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    );
    let motto = c.centered(
        Face::Bold,
        13.0,
        right_cx,
        top - 16.0,
        "Độc lập - Tự do - Hạnh phúc",
    );
    c.rule(
        right_cx - motto / 2.0,
        right_cx + motto / 2.0,
        top - 20.0,
        0.6,
    );
    c.centered(Face::Bold, 15.0, w / 2.0, top - 70.0, "LỜI CHỨNG");
    let signature_rect = block(&mut c, st, w / 2.0 - BLOCK_WIDTH / 2.0, top - 90.0)?;
    Ok(Drawn {
        drawing: c.finish()?,
        signature_rect,
    })
}

/// A framed block on a white ground at the lower right of a `size` page (over the scan).
pub fn stamp(st: &Statement, size: [f32; 2]) -> Result<Drawn> {
    let mut c = Canvas::new()?;
    let x = (size[0] - BLOCK_WIDTH - 36.0).max(8.0);
    let y_top = (28.0 + BLOCK_HEIGHT).min(size[1] - 8.0);
    c.frame(
        x - 8.0,
        y_top - BLOCK_HEIGHT,
        BLOCK_WIDTH + 16.0,
        BLOCK_HEIGHT + 4.0,
    );
    let signature_rect = block(&mut c, st, x, y_top - 8.0)?;
    Ok(Drawn {
        drawing: c.finish()?,
        signature_rect,
    })
}

/// The statement's lines centred in a column of `BLOCK_WIDTH` from `x`, first baseline below
/// `y_top`; the QR code at the foot. Returns the signature rectangle.
fn block(c: &mut Canvas, st: &Statement, x: f32, y_top: f32) -> Result<[f32; 4]> {
    let cx = x + BLOCK_WIDTH / 2.0;
    let mut y = y_top - 12.0;
    for line in c.wrap(Face::Bold, 12.0, BLOCK_WIDTH, &st.text) {
        c.centered(Face::Bold, 12.0, cx, y, &line);
        y -= 16.0;
    }
    for line in [&st.number, &st.book, &st.date] {
        c.centered(Face::Regular, 11.5, cx, y, line);
        y -= 15.0;
    }
    y -= 3.0;
    c.centered(Face::Bold, 11.5, cx, y, &st.certifier_heading);
    y -= 15.0;
    c.centered(Face::Regular, 11.5, cx, y, &st.certifier_title);
    // `agency_rect` relies on these offsets: the QR code ends 132 below the signature's top.
    let rect = [cx - 95.0, y - 56.0, cx + 95.0, y - 6.0];
    y -= 70.0;
    c.centered(Face::Bold, 11.5, cx, y, &st.certifier_name);
    y -= 10.0 + QR_SIDE;
    c.qr(x, y, QR_SIDE, &st.lookup_url)?;
    let mut small_y = y + QR_SIDE - 9.0;
    for line in &st.lookup_lines {
        c.text(Face::Regular, 8.5, x + QR_SIDE + 6.0, small_y, line);
        small_y -= 11.0;
    }
    Ok(rect)
}
