//! Serialising lopdf objects into an incremental update.
//!
//! lopdf keeps its object writer private and can only save whole documents, while an
//! incremental update must append a handful of objects after the untouched original bytes
//! and know each one's offset; so the few lines of PDF syntax below are ours.

use std::cell::RefCell;
use std::io::Write;

use lopdf::{Dictionary, Document, Object, StringFormat};

/// Whether the document holds a signature dictionary (ISO 32000-1 §12.8.1: /ByteRange and
/// /Contents), indirect or directly in a field's /V.
pub fn is_signed(doc: &Document) -> bool {
    let is_signature = |d: &Dictionary| d.has(b"ByteRange") && d.has(b"Contents");
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .any(|d| {
            is_signature(d)
                || d.get(b"V")
                    .and_then(Object::as_dict)
                    .is_ok_and(is_signature)
        })
}

/// Writes `object` in PDF syntax.
pub fn write(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Object::Real(r) => write_real(out, *r),
        Object::Name(name) => write_name(out, name),
        Object::String(bytes, StringFormat::Hexadecimal) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode_upper(bytes).as_bytes());
            out.push(b'>');
        }
        Object::String(bytes, StringFormat::Literal) => write_literal(out, bytes),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => write_dict(out, dict),
        Object::Stream(stream) => {
            let mut dict = stream.dict.clone();
            dict.set("Length", stream.content.len() as i64);
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((id, generation)) => {
            let _ = write!(out, "{id} {generation} R");
        }
    }
}

pub fn write_dict(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        write_name(out, key);
        out.push(b' ');
        write(out, value);
    }
    out.extend_from_slice(b">>");
}

/// The shortest decimal that reads back as the same `f32` (Rust's `Display`, which never uses
/// an exponent; PDF has none, §7.3.3), with `-0` and non-finite values written as `0`.
fn write_real(out: &mut Vec<u8>, r: f32) {
    let r = if r.is_finite() && r != 0.0 { r } else { 0.0 };
    let _ = write!(out, "{r}");
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if b.is_ascii_graphic() && !b"#()<>[]{}/%".contains(&b) {
            out.push(b);
        } else {
            let _ = write!(out, "#{b:02X}");
        }
    }
}

fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, anything else UTF-16BE with BOM.
pub fn text_string(text: &str) -> Object {
    if text.is_ascii() {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Flate-compresses `data` into a lopdf stream; the data stays plain (no `/Filter`) when
/// compression does not pay. Level 2 (greedy matching): an extract's body font is a new subset
/// with every name, and on 40 KB of font program zlib-rs takes 0.35 ms at level 2 against
/// 0.53 ms at the default level 6, for 2 % more bytes (level 1 is faster still but 26 %
/// larger; lopdf's level 9 cost a fifth of an issuance).
pub fn deflate(data: &[u8]) -> lopdf::Stream {
    match zlib(data) {
        Some(packed) => {
            lopdf::Stream::new(lopdf::dictionary! { "Filter" => "FlateDecode" }, packed)
        }
        None => lopdf::Stream::new(lopdf::Dictionary::new(), data.to_vec()),
    }
}

thread_local! {
    /// One compressor per thread, reset for each stream: a new one allocates and clears about
    /// 250 KB of window, hash tables and buffers, which cost an extract a fifth of its
    /// compressing (and a tenth of its time, page faults included).
    static COMPRESSOR: RefCell<flate2::Compress> =
        RefCell::new(flate2::Compress::new(flate2::Compression::new(2), true));
}

/// `data` as a zlib stream, if that is shorter.
fn zlib(data: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|compressor| {
        compressor.reset();
        // No room for more than `data`: a stream that would not fit does not pay.
        let mut packed = Vec::with_capacity(data.len());
        let status = compressor
            .compress_vec(data, &mut packed, flate2::FlushCompress::Finish)
            .ok()?;
        (status == flate2::Status::StreamEnd && packed.len() < data.len()).then_some(packed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn serialise(object: &Object) -> String {
        let mut out = Vec::new();
        write(&mut out, object);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn writes_pdf_syntax() {
        let dict = dictionary! {
            "Type" => "Sig",
            "Odd Name" => Object::Name(b"A#B".to_vec()),
            "Rect" => vec![0.into(), 1.5.into(), Object::Real(-0.004), Object::Real(-0.0)],
            "P" => Object::Reference((12, 0)),
            "T" => Object::string_literal("a(b)\\c"),
        };
        assert_eq!(
            serialise(&Object::Dictionary(dict)),
            "<</Type /Sig/Odd#20Name /A#23B/Rect [0 1.5 -0.004 0]/P 12 0 R/T (a\\(b\\)\\\\c)>>"
        );
    }

    #[test]
    fn reals_are_shortest_exact_without_exponent() {
        for (value, text) in [
            (595.303_96_f32, "595.30396"),
            (0.5, "0.5"),
            (-0.0001, "-0.0001"),
            (12.0, "12"),
            (1e-7, "0.0000001"),
            (3e9, "3000000000"),
            (-0.0, "0"),
            (f32::NAN, "0"),
            (f32::INFINITY, "0"),
        ] {
            assert_eq!(serialise(&Object::Real(value)), text);
            let back: f32 = text.parse().unwrap();
            assert!(back == value || !value.is_finite(), "{text}");
        }
    }

    #[test]
    fn text_strings_use_utf16_for_vietnamese() {
        assert_eq!(serialise(&text_string("Ha Noi")), "(Ha Noi)");
        assert_eq!(serialise(&text_string("Đ")), "<FEFF0110>");
    }

    #[test]
    fn the_reused_compressor_starts_every_stream_afresh() {
        use std::io::Read;
        let text: Vec<u8> = b"BT /F1 12 Tf (Trich luc khai sinh) Tj ET\n".repeat(50);
        let noise: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for data in [&text, &noise, &text, &Vec::new()] {
            let stream = deflate(data);
            if stream.dict.has(b"Filter") {
                assert!(stream.content.len() < data.len());
                let mut plain = Vec::new();
                flate2::read::ZlibDecoder::new(&stream.content[..])
                    .read_to_end(&mut plain)
                    .unwrap();
                assert_eq!(&plain, data);
            } else {
                // Incompressible or empty: kept as it is.
                assert_ne!(data, &text);
                assert_eq!(&stream.content, data);
            }
        }
    }
}
