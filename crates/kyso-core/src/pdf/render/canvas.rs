//! A small drawing surface over pdf-writer's content streams: text in the embedded Vietnamese
//! serif (regular, bold, italic: resources `/F1`, `/F2`, `/F3`), centring and word wrapping from
//! the font's own advances, rules, and QR codes drawn as vector squares.

use std::sync::Arc;

use pdf_writer::{Content, Name, Str};
use qrcodegen::{QrCode, QrCodeEcc};

use crate::error::{Error, Result};
use crate::pdf::font::{EmbeddedFont, Face, FontSubset};

/// A4 portrait in points.
pub const A4: [f32; 2] = [595.28, 841.89];
const FACES: [(Face, Name<'static>); 3] = [
    (Face::Regular, Name(b"F1")),
    (Face::Bold, Name(b"F2")),
    (Face::Italic, Name(b"F3")),
];

/// Pages of drawing operations that share one subset per face.
pub struct Canvas {
    pages: Vec<Content>,
    /// Indexed like `FACES`, with whether the face was used.
    fonts: Vec<(FontSubset, bool)>,
}

/// The drawn pages and the fonts they use (resource name, font), ready to be written into a PDF.
pub struct Drawing {
    pub pages: Vec<Vec<u8>>,
    pub fonts: Vec<(Name<'static>, Arc<EmbeddedFont>)>,
}

fn index(face: Face) -> usize {
    match face {
        Face::Regular => 0,
        Face::Bold => 1,
        Face::Italic => 2,
    }
}

impl Canvas {
    pub fn new() -> Result<Self> {
        Ok(Self {
            pages: vec![Content::new()],
            fonts: FACES
                .iter()
                .map(|(face, _)| {
                    let mut font = FontSubset::new(*face)?;
                    font.reserve_digits();
                    Ok((font, false))
                })
                .collect::<Result<_>>()?,
        })
    }

    pub fn new_page(&mut self) {
        self.pages.push(Content::new());
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    pub fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.fonts[index(face)].0.width(text, size)
    }

    /// `text` with its baseline starting at (x, y).
    pub fn text(&mut self, face: Face, size: f32, x: f32, y: f32, text: &str) {
        let (font, used) = &mut self.fonts[index(face)];
        *used = true;
        let encoded = font.encode(text);
        let name = FACES[index(face)].1;
        self.page()
            .begin_text()
            .set_font(name, size)
            .next_line(x, y)
            .show(Str(&encoded))
            .end_text();
    }

    /// `text` centred on `cx`; returns its width.
    pub fn centered(&mut self, face: Face, size: f32, cx: f32, y: f32, text: &str) -> f32 {
        let width = self.width(face, size, text);
        self.text(face, size, cx - width / 2.0, y, text);
        width
    }

    /// Greedy word wrapping to `width`; a single word longer than the line is cut by characters.
    pub fn wrap(&self, face: Face, size: f32, width: f32, text: &str) -> Vec<String> {
        let fits = |s: &str| self.width(face, size, s) <= width;
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&candidate) {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if !fits(&line) && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// A horizontal line from x1 to x2 at height y.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.page()
            .save_state()
            .set_line_width(width)
            .move_to(x1, y)
            .line_to(x2, y)
            .stroke()
            .restore_state();
    }

    /// A white box with a thin black border, to keep a stamp legible over a scan.
    pub fn frame(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.page()
            .save_state()
            .set_fill_gray(1.0)
            .set_line_width(0.8)
            .rect(x, y, width, height)
            .fill_nonzero_and_stroke()
            .restore_state();
    }

    /// `data` as a QR code (at least medium error correction) filling a `side`-point square whose
    /// lower-left corner is (x, y); dark modules are filled rectangles, one per horizontal run.
    pub fn qr(&mut self, x: f32, y: f32, side: f32, data: &str) -> Result<()> {
        let code = QrCode::encode_text(data, QrCodeEcc::Medium)
            .map_err(|e| Error::internal(format!("QR code: {e}")))?;
        let n = code.size();
        let module = side / n as f32;
        let content = self.page();
        content.save_state().set_fill_gray(0.0);
        for row in 0..n {
            let dark = |col: i32| code.get_module(col, row);
            let top = y + side - row as f32 * module;
            let mut col = 0;
            while col < n {
                if dark(col) {
                    let start = col;
                    while col < n && dark(col) {
                        col += 1;
                    }
                    let run = (col - start) as f32;
                    content.rect(
                        x + start as f32 * module,
                        top - module,
                        run * module,
                        module,
                    );
                } else {
                    col += 1;
                }
            }
        }
        content.fill_nonzero().restore_state();
        Ok(())
    }

    /// The pages, and the fonts of the faces that were used.
    pub fn finish(self) -> Result<Drawing> {
        let mut fonts = Vec::new();
        for ((font, used), (_, name)) in self.fonts.into_iter().zip(FACES) {
            if used {
                fonts.push((name, font.finish()?));
            }
        }
        Ok(Drawing {
            pages: self
                .pages
                .into_iter()
                .map(|c| c.finish().into_vec())
                .collect(),
            fonts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_respects_the_width() {
        let canvas = Canvas::new().unwrap();
        let text = "Số nhà 12, ngõ 34, đường Nguyễn Trãi, phường Thành Đông, thành phố Hải Phòng";
        let lines = canvas.wrap(Face::Regular, 12.0, 150.0, text);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(canvas.width(Face::Regular, 12.0, line) <= 150.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(200);
        let lines = canvas.wrap(Face::Regular, 12.0, 100.0, &long);
        assert_eq!(lines.concat(), long);
        assert_eq!(
            canvas.wrap(Face::Bold, 12.0, 100.0, ""),
            vec![String::new()]
        );
    }
}
