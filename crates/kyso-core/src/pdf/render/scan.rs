//! Scanned pages (JPEG or PNG images) wrapped into a PDF, one A4 page per image, the image
//! scaled to fit its page.
//!
//! JPEG files are embedded byte for byte as `DCTDecode` streams: no pixel is re-encoded. PNG
//! cannot be embedded as a file, so its pixels are decoded and stored again with Flate (PNG's
//! own compression): the container changes, the pixels stay exactly the same (lossless).

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};

use super::canvas::A4;
use crate::error::{Error, Result};
use crate::pdf::object::deflate;

/// An image the wrapper knows how to embed.
struct Image {
    width: u32,
    height: u32,
    color: Name<'static>,
    bits: i32,
    filter: Option<Filter>,
    data: Vec<u8>,
    /// Adobe CMYK JPEGs store inverted values.
    inverted_cmyk: bool,
    /// PNG alpha as a soft mask (8 or 16 bits).
    alpha: Option<(Vec<u8>, Option<Filter>)>,
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

/// A PDF with one page per image, in order. `Error::UnsupportedMedia` for anything but JPEG and
/// PNG, `Error::ScanUnreadable` for a damaged image.
pub fn wrap(images: &[Vec<u8>], title: &str) -> Result<Vec<u8>> {
    let images = images
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            if is_jpeg(bytes) {
                jpeg(bytes)
            } else if is_png(bytes) {
                png(bytes)
            } else {
                Err(Error::UnsupportedMedia(
                    "scans must be PDF, JPEG or PNG files".into(),
                ))
            }
            .map_err(|e| match e {
                Error::ScanUnreadable(why) => {
                    Error::ScanUnreadable(format!("page {}: {why}", i + 1))
                }
                other => other,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if images.is_empty() {
        return Err(Error::InvalidInput("no scanned page was uploaded".into()));
    }

    let mut pdf = Pdf::new();
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree = alloc.bump();
    let info = alloc.bump();
    let mut kids = Vec::new();
    for image in &images {
        let [page_id, content_id, image_id, mask_id] = std::array::from_fn(|_| alloc.bump());
        kids.push(page_id);
        // A4 in the image's orientation; the image scaled to fit, centred.
        let [short, long] = A4;
        let (pw, ph) = if image.width > image.height {
            (long, short)
        } else {
            (short, long)
        };
        let scale = (pw / image.width as f32).min(ph / image.height as f32);
        let (w, h) = (image.width as f32 * scale, image.height as f32 * scale);
        let mut content = Content::new();
        content
            .save_state()
            .transform([w, 0.0, 0.0, h, (pw - w) / 2.0, (ph - h) / 2.0])
            .x_object(Name(b"Im1"))
            .restore_state();
        let content = content.finish();

        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, pw, ph))
            .parent(tree)
            .contents(content_id);
        page.resources().x_objects().pair(Name(b"Im1"), image_id);
        page.finish();
        pdf.stream(content_id, &content);

        let mut xobject = pdf.image_xobject(image_id, &image.data);
        if let Some(filter) = image.filter {
            xobject.filter(filter);
        }
        xobject
            .width(image.width as i32)
            .height(image.height as i32)
            .color_space_name(image.color)
            .bits_per_component(image.bits);
        if image.inverted_cmyk {
            xobject.decode([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        }
        if image.alpha.is_some() {
            xobject.s_mask(mask_id);
        }
        xobject.finish();
        if let Some((alpha, filter)) = &image.alpha {
            let mut mask = pdf.image_xobject(mask_id, alpha);
            if let Some(filter) = filter {
                mask.filter(*filter);
            }
            mask.width(image.width as i32)
                .height(image.height as i32)
                .color_space_name(Name(b"DeviceGray"))
                .bits_per_component(image.bits);
        }
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).count(kids.len() as i32).kids(kids);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("kyso"));
    Ok(pdf.finish())
}

/// Refuses any image above `max` pixels from its header alone, before anything is decoded
/// (a few KB of PNG can announce gigabytes of pixels). Other file types are left to `wrap`.
pub fn check_pixels(images: &[Vec<u8>], max: u64) -> Result<()> {
    for bytes in images {
        let (width, height) = if is_jpeg(bytes) {
            let image = jpeg(bytes)?;
            (image.width, image.height)
        } else if is_png(bytes) {
            let reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .map_err(|e| Error::ScanUnreadable(format!("damaged PNG: {e}")))?;
            reader.info().size()
        } else {
            continue;
        };
        let pixels = u64::from(width) * u64::from(height);
        if pixels > max {
            return Err(Error::ImageTooLarge { pixels, limit: max });
        }
    }
    Ok(())
}

/// Reads the frame header (SOFn) for size and components; the file itself is embedded as is.
/// Hand-written because the few bytes needed do not justify a JPEG decoder.
fn jpeg(bytes: &[u8]) -> Result<Image> {
    let broken = |why: &str| Error::ScanUnreadable(format!("damaged JPEG: {why}"));
    let mut at = 2;
    let mut adobe = false;
    loop {
        let marker = loop {
            match bytes.get(at..at + 2) {
                Some([0xFF, 0xFF]) => at += 1, // fill bytes
                Some([0xFF, m]) => break *m,
                _ => return Err(broken("no frame header")),
            }
        };
        at += 2;
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue; // markers without a segment
        }
        let len = match bytes.get(at..at + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(broken("truncated segment")),
        };
        let segment = bytes
            .get(at + 2..at + len)
            .ok_or_else(|| broken("truncated segment"))?;
        match marker {
            0xEE if segment.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let &[precision, h1, h0, w1, w0, components, ..] = segment else {
                    return Err(broken("short frame header"));
                };
                let (height, width) = (
                    u32::from(u16::from_be_bytes([h1, h0])),
                    u32::from(u16::from_be_bytes([w1, w0])),
                );
                if width == 0 || height == 0 || precision != 8 {
                    return Err(broken("unsupported frame"));
                }
                let color = match components {
                    1 => Name(b"DeviceGray"),
                    3 => Name(b"DeviceRGB"),
                    4 => Name(b"DeviceCMYK"),
                    _ => return Err(broken("unsupported number of components")),
                };
                if !bytes.windows(2).rev().take(64).any(|w| w == [0xFF, 0xD9]) {
                    return Err(broken("truncated image data"));
                }
                return Ok(Image {
                    width,
                    height,
                    color,
                    bits: 8,
                    filter: Some(Filter::DctDecode),
                    data: bytes.to_vec(),
                    inverted_cmyk: components == 4 && adobe,
                    alpha: None,
                });
            }
            0xD9 | 0xDA => return Err(broken("no frame header before the image data")),
            _ => {}
        }
        at += len;
    }
}

/// Decodes the pixels (palettes expanded), splits off alpha, and Flate-compresses both.
fn png(bytes: &[u8]) -> Result<Image> {
    let broken = |e: png::DecodingError| Error::ScanUnreadable(format!("damaged PNG: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(broken)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::ScanUnreadable("PNG too large".into()))?;
    let mut pixels = vec![0; size];
    let frame = reader.next_frame(&mut pixels).map_err(broken)?;
    pixels.truncate(frame.buffer_size());
    let bytes_per_sample = if frame.bit_depth == png::BitDepth::Sixteen {
        2
    } else {
        1
    };
    let (color, channels, has_alpha) = match frame.color_type {
        png::ColorType::Grayscale => (Name(b"DeviceGray"), 1, false),
        png::ColorType::GrayscaleAlpha => (Name(b"DeviceGray"), 2, true),
        png::ColorType::Rgb => (Name(b"DeviceRGB"), 3, false),
        png::ColorType::Rgba => (Name(b"DeviceRGB"), 4, true),
        png::ColorType::Indexed => {
            return Err(Error::ScanUnreadable("PNG palette was not expanded".into()))
        }
    };
    let (data, alpha) = if has_alpha {
        let pixel = channels * bytes_per_sample;
        let color_len = (channels - 1) * bytes_per_sample;
        let mut data = Vec::with_capacity(pixels.len());
        let mut alpha = Vec::with_capacity(pixels.len() / channels);
        for px in pixels.chunks_exact(pixel) {
            data.extend_from_slice(&px[..color_len]);
            alpha.extend_from_slice(&px[color_len..]);
        }
        (data, Some(alpha))
    } else {
        (pixels, None)
    };
    let packed = |raw: &[u8]| {
        let stream = deflate(raw);
        let filter = stream.dict.has(b"Filter").then_some(Filter::FlateDecode);
        (stream.content, filter)
    };
    let (data, filter) = packed(&data);
    Ok(Image {
        width: frame.width,
        height: frame.height,
        color,
        bits: 8 * bytes_per_sample as i32,
        filter,
        data,
        inverted_cmyk: false,
        alpha: alpha.map(|a| packed(&a)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_of(color: jpeg_encoder::ColorType, channels: usize) -> Vec<u8> {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&vec![128u8; 16 * 8 * channels], 16, 8, color)
            .unwrap();
        out
    }

    #[test]
    fn jpeg_headers_give_size_and_colour_space_and_the_file_is_kept() {
        for (color, channels, space) in [
            (jpeg_encoder::ColorType::Luma, 1, "DeviceGray"),
            (jpeg_encoder::ColorType::Rgb, 3, "DeviceRGB"),
            (jpeg_encoder::ColorType::Cmyk, 4, "DeviceCMYK"),
        ] {
            let bytes = jpeg_of(color, channels);
            let image = jpeg(&bytes).unwrap();
            assert_eq!((image.width, image.height), (16, 8));
            assert_eq!(image.color.0, space.as_bytes());
            assert_eq!(image.data, bytes);
        }
        let mut truncated = jpeg_of(jpeg_encoder::ColorType::Rgb, 3);
        truncated.truncate(truncated.len() - 10);
        assert!(matches!(jpeg(&truncated), Err(Error::ScanUnreadable(_))));
        assert!(matches!(
            jpeg(&[0xFF, 0xD8, 0xFF]),
            Err(Error::ScanUnreadable(_))
        ));
    }

    #[test]
    fn png_alpha_becomes_a_soft_mask_and_the_pixels_survive() {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, 2, 1);
            encoder.set_color(png::ColorType::Rgba);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        }
        let image = png(&out).unwrap();
        let inflate = |(data, filter): (&[u8], Option<Filter>)| match filter {
            Some(_) => {
                let mut stream = lopdf::Stream::new(
                    lopdf::dictionary! { "Filter" => "FlateDecode" },
                    data.to_vec(),
                );
                stream.decompress().unwrap();
                stream.content
            }
            None => data.to_vec(),
        };
        assert_eq!(inflate((&image.data, image.filter)), [1, 2, 3, 5, 6, 7]);
        let (alpha, filter) = image.alpha.unwrap();
        assert_eq!(inflate((&alpha, filter)), [4, 8]);
        assert!(matches!(
            wrap(&[b"GIF89a".to_vec()], "x"),
            Err(Error::UnsupportedMedia(_))
        ));
    }
}
