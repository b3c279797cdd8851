//! The signature widget's look: a framed block of text lines (signer, title, agency, time) in
//! the embedded Vietnamese font, or an empty form for an invisible signature.

use lopdf::{dictionary, Object, ObjectId, Stream};

use crate::error::{Error, Result};
use crate::pdf::font::{Face, FontSubset};
use crate::pdf::update::Update;

/// A visible signature on `page` (1-based) inside `rect` = [x1, y1, x2, y2] in PDF points.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub page: u32,
    pub rect: [f32; 4],
    pub lines: Vec<String>,
}

const MAX_FONT_SIZE: f32 = 10.0;
const PADDING: f32 = 3.0;
const LEADING: f32 = 1.25;

impl Appearance {
    /// Writes the appearance stream and its font; returns the stream's id.
    pub(super) fn write(&self, update: &mut Update) -> Result<ObjectId> {
        let [x1, y1, x2, y2] = self.rect;
        let (width, height) = (x2 - x1, y2 - y1);
        if !(width > 2.0 * PADDING && height > 2.0 * PADDING) || self.lines.is_empty() {
            return Err(Error::InvalidInput(
                "the signature rectangle is too small to show anything".into(),
            ));
        }
        let mut font = FontSubset::new(Face::Regular)?;
        font.reserve_digits();
        // The largest size at which every line fits across and all lines fit down.
        let widest = self
            .lines
            .iter()
            .map(|line| font.width(line, 1.0))
            .fold(0.0_f32, f32::max);
        let size = MAX_FONT_SIZE
            .min((width - 2.0 * PADDING) / widest.max(0.01))
            .min((height - 2.0 * PADDING) / (self.lines.len() as f32 * LEADING));

        let mut content = format!(
            "q 0.6 0 0 RG 0.8 w 0.4 0.4 {:.2} {:.2} re S Q\nBT 0 g /F1 {size:.2} Tf {:.2} TL {PADDING} {:.2} Td\n",
            width - 0.8,
            height - 0.8,
            size * LEADING,
            height - PADDING - size
        )
        .into_bytes();
        for line in &self.lines {
            content.push(b'<');
            content.extend_from_slice(hex::encode_upper(font.encode(line)).as_bytes());
            content.extend_from_slice(b"> Tj T*\n");
        }
        content.extend_from_slice(b"ET");

        let (font_id, font_objects) = font.finish()?.to_lopdf(update.next_id_mut());
        for (id, object) in font_objects {
            update.put(id, object);
        }
        let ap_id = update.alloc();
        let dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), Object::Real(width), Object::Real(height)],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        };
        update.put(ap_id, Stream::new(dict, content));
        Ok(ap_id)
    }
}

/// An empty form XObject: invisible widgets still carry an appearance (PDF/A, pyHanko).
pub(super) fn write_invisible(update: &mut Update) -> ObjectId {
    let id = update.alloc();
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Form",
        "BBox" => vec![0.into(), 0.into(), 0.into(), 0.into()],
    };
    update.put(id, Stream::new(dict, Vec::new()));
    id
}
