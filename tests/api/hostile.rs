//! Hostile PDFs against the real server: each one is answered (a 4xx with a stable code, or a
//! report) and the server still answers `/healthz` afterwards. The files are written here, byte
//! by byte, and kept under `test-artifacts/hostile/` for memory measurements with
//! `/usr/bin/time -v kyso verify FILE`.

use std::io::Write;

use serde_json::Value;

use crate::helpers::{error_code, spawn_app, spawn_app_with, SignParams, TestApp};
use crate::validators::artifact_dir;

/// A PDF written object by object, with offsets known for hand-made cross-references.
pub struct RawPdf {
    pub bytes: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl RawPdf {
    /// Header, then a catalog (1), page tree (2) and page (3); `catalog_extra` goes into the
    /// catalog dictionary.
    pub fn new(catalog_extra: &str) -> Self {
        let mut pdf = RawPdf {
            bytes: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            offsets: Vec::new(),
        };
        pdf.object(
            1,
            format!("<</Type/Catalog/Pages 2 0 R{catalog_extra}>>").as_bytes(),
        );
        pdf.object(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
        pdf.object(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>");
        pdf
    }

    pub fn object(&mut self, id: u32, body: &[u8]) -> usize {
        let at = self.bytes.len();
        self.offsets.push((id, at));
        writeln!(self.bytes, "{id} 0 obj").unwrap();
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(b"\nendobj\n");
        at
    }

    pub fn stream(&mut self, id: u32, dict: &str, data: &[u8]) -> usize {
        let mut body = format!("<<{dict}/Length {}>>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.object(id, &body)
    }

    pub fn offset(&self, id: u32) -> usize {
        self.offsets.iter().rfind(|(i, _)| *i == id).unwrap().1
    }

    /// A classic xref table of every object so far; `trailer` gets the table's own offset.
    pub fn finish_with_table(mut self, trailer: impl Fn(usize) -> String) -> Vec<u8> {
        let at = self.bytes.len();
        let size = self.offsets.iter().map(|(i, _)| i + 1).max().unwrap_or(1);
        write!(self.bytes, "xref\n0 {size}\n0000000000 65535 f \n").unwrap();
        for id in 1..size {
            let offset = self
                .offsets
                .iter()
                .rfind(|(i, _)| *i == id)
                .map_or(0, |o| o.1);
            writeln!(self.bytes, "{offset:010} 00000 n ").unwrap();
        }
        let trailer = trailer(at);
        write!(
            self.bytes,
            "trailer\n<</Size {size}/Root 1 0 R{trailer}>>\nstartxref\n{at}\n%%EOF\n"
        )
        .unwrap();
        self.bytes
    }

    /// An xref stream (object `id`, W [1 4 2], unfiltered) over every object so far and the
    /// `compressed` ones (number, container); `extra` gets the stream's own offset.
    pub fn finish_with_stream(
        mut self,
        id: u32,
        compressed: &[(u32, u32)],
        extra: impl Fn(usize) -> String,
    ) -> Vec<u8> {
        let at = self.bytes.len();
        let size = id + 1;
        let mut rows = Vec::new();
        for n in 0..size {
            let normal = self.offsets.iter().rfind(|(i, _)| *i == n).map(|o| o.1);
            let row: (u8, u32, u16) = if n == id {
                (1, at as u32, 0)
            } else if let Some(offset) = normal {
                (1, offset as u32, 0)
            } else if let Some((_, container)) = compressed.iter().find(|(c, _)| *c == n) {
                (2, *container, 0)
            } else {
                (0, 0, 65535)
            };
            rows.push(row.0);
            rows.extend_from_slice(&row.1.to_be_bytes());
            rows.extend_from_slice(&row.2.to_be_bytes());
        }
        let dict = format!("/Type/XRef/Size {size}/W[1 4 2]/Root 1 0 R{}", extra(at));
        self.stream(id, &dict, &rows);
        write!(self.bytes, "startxref\n{at}\n%%EOF\n").unwrap();
        self.bytes
    }
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Issue 9: 20 000 levels hidden after the word `stream` inside a string.
fn deep_after_string() -> Vec<u8> {
    RawPdf::new(&format!("/Note (stream) /X {}", nested(20_000)))
        .finish_with_table(|_| String::new())
}

fn keep(name: &str, pdf: &[u8]) {
    std::fs::write(artifact_dir("hostile").join(name), pdf).unwrap();
}

impl TestApp {
    async fn post_verify(&self, pdf: &[u8]) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/verify", self.address))
            .header("Content-Type", "application/pdf")
            .body(pdf.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// The server still answers.
    async fn assert_healthy(&self) {
        let response = self
            .http
            .get(format!("{}/healthz", self.address))
            .send()
            .await
            .expect("the server is still up");
        assert_eq!(response.status(), 200);
    }

    /// The error code of signing `pdf` as a commune chair, after checking the status.
    pub async fn sign_refused(&self, pdf: &[u8], status: u16) -> String {
        let signer = "99001-chair";
        let params = SignParams {
            signer,
            ..Default::default()
        };
        error_code(self.sign(pdf, params).await, status).await
    }

    async fn refused(&self, name: &str, pdf: &[u8], status: u16) -> String {
        keep(name, pdf);
        let code = error_code(self.post_verify(pdf).await, status).await;
        self.assert_healthy().await;
        code
    }

    async fn reported(&self, name: &str, pdf: &[u8]) -> Value {
        keep(name, pdf);
        let response = self.post_verify(pdf).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "{body}");
        self.assert_healthy().await;
        serde_json::from_str(&body).unwrap()
    }
}

#[tokio::test]
async fn deep_nesting_hidden_after_stream_in_a_string_is_refused() {
    let app = spawn_app().await;
    let code = app
        .refused("deep-after-string.pdf", &deep_after_string(), 400)
        .await;
    assert_eq!(code, "pdf_too_complex");
}

#[tokio::test]
async fn deep_nesting_is_refused_by_sign_and_certified_copies_too() {
    let app = spawn_app().await;
    let pdf = deep_after_string();
    assert_eq!(app.sign_refused(&pdf, 400).await, "pdf_too_complex");
    app.assert_healthy().await;
    let response = app.post_copy(vec![("deep.pdf", pdf)], &[]).await;
    assert_eq!(error_code(response, 400).await, "pdf_too_complex");
    app.assert_healthy().await;
}

/// A file whose object 4 lives in object stream 5 (Flate-compressed `data`, as it inflates).
fn in_object_stream(data: &[u8]) -> Vec<u8> {
    let mut pdf = RawPdf::new("/Extra 4 0 R");
    pdf.stream(
        5,
        "/Type/ObjStm/N 1/First 4/Filter/FlateDecode",
        &deflate(data),
    );
    pdf.finish_with_stream(6, &[(4, 5)], |_| String::new())
}

#[tokio::test]
async fn deep_nesting_inside_an_object_stream_is_refused() {
    let pdf = in_object_stream(format!("4 0 {} ", nested(20_000)).as_bytes());
    let app = spawn_app().await;
    let code = app.refused("deep-in-object-stream.pdf", &pdf, 400).await;
    assert_eq!(code, "pdf_too_complex");
}

#[tokio::test]
async fn object_stream_bomb_is_refused() {
    // 100 MiB of zeros inflate from about 100 KB, beyond the 64 MiB default.
    let pdf = in_object_stream(&vec![0u8; 100 << 20]);
    let app = spawn_app().await;
    let code = app.refused("object-stream-bomb.pdf", &pdf, 400).await;
    assert_eq!(code, "pdf_too_complex");
}

#[tokio::test]
async fn prev_cycles_are_read_once() {
    let app = spawn_app().await;
    let own = RawPdf::new("").finish_with_table(|at| format!("/Prev {at}"));
    let report = app.reported("prev-cycle.pdf", &own).await;
    assert_eq!(report["signatures"], serde_json::json!([]));
    let xref_stream = RawPdf::new("").finish_with_stream(4, &[], |at| format!("/Prev {at}"));
    let report = app
        .reported("xref-stream-prev-itself.pdf", &xref_stream)
        .await;
    assert_eq!(report["signatures"], serde_json::json!([]));
}

#[tokio::test]
async fn huge_declared_sizes_are_refused_or_ignored() {
    let app = spawn_app().await;
    // An xref stream that declares two billion entries.
    let declared = RawPdf::new("").finish_with_stream(4, &[], |_| "/Index[0 2000000000]".into());
    let code = app
        .refused("xref-stream-huge-index.pdf", &declared, 400)
        .await;
    assert_eq!(code, "pdf_too_complex");
    // Zero-width entries would cost nothing to read: two billion of them, from no data. That
    // xref stream is not used; the file is read by scanning.
    let empty =
        RawPdf::new("").finish_with_stream(4, &[], |_| "/W[0 0 0]/Index[0 2000000000]".into());
    let report = app.reported("xref-stream-zero-width.pdf", &empty).await;
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
    // A trailer's /Size alone costs nothing.
    let size = RawPdf::new("").finish_with_table(|_| "/Size 2000000000".into());
    app.reported("trailer-huge-size.pdf", &size).await;
}

#[tokio::test]
async fn dss_referring_to_one_stream_two_thousand_times_is_read_once() {
    let mut pdf = RawPdf::new("/DSS 5 0 R");
    pdf.stream(4, "/Filter/FlateDecode", &deflate(&vec![0x30u8; 1 << 20]));
    let refs = " 4 0 R".repeat(2_000);
    pdf.object(5, format!("<</Certs[{refs}]/CRLs[{refs}]>>").as_bytes());
    let pdf = pdf.finish_with_table(|_| String::new());
    let app = spawn_app().await;
    let report = app.reported("dss-2000-refs.pdf", &pdf).await;
    assert_eq!(report["document"]["signatures"], 0);
}

#[tokio::test]
async fn garbage_after_a_header_is_malformed() {
    let app = spawn_app().await;
    let code = app
        .refused("garbage.pdf", b"%PDF-1.7\n1 0 obj <<\xff\xfe garbage", 400)
        .await;
    assert_eq!(code, "pdf_malformed");
}

/// `count` document timestamps no field holds, each covering the file's first 10 000 bytes
/// (ISO 32000-2 §12.8.5): every one is hashed when verified.
fn many_timestamps(count: u32) -> Vec<u8> {
    let mut pdf = RawPdf::new("");
    pdf.object(4, &vec![b' '; 10_000]);
    for i in 0..count {
        let dict = "<</Type/DocTimeStamp/SubFilter/ETSI.RFC3161/ByteRange[0 5000 5010 4990]/Contents<00>>>";
        pdf.object(5 + i, dict.as_bytes());
    }
    pdf.finish_with_table(|_| String::new())
}

#[tokio::test]
async fn bytes_hashed_per_verification_are_bounded() {
    let pdf = many_timestamps(20);
    // 20 × 9 990 bytes: within 256 KiB the timestamps are reported, beyond 128 KiB refused.
    let app = spawn_app_with(|s| s.pdf.max_hashed_bytes = 256 << 10).await;
    let report = app.reported("timestamps.pdf", &pdf).await;
    assert_eq!(report["signatures"].as_array().unwrap().len(), 20);
    let app = spawn_app_with(|s| s.pdf.max_hashed_bytes = 128 << 10).await;
    let code = app.refused("timestamps.pdf", &pdf, 400).await;
    assert_eq!(code, "pdf_too_complex");
}

#[tokio::test]
async fn a_verification_past_its_time_budget_is_refused() {
    let app = spawn_app_with(|s| s.pdf.max_verify_seconds = 0).await;
    let code = app
        .refused("timestamps.pdf", &many_timestamps(3), 400)
        .await;
    assert_eq!(code, "pdf_too_complex");
}

/// A signed file, then an update that gives its form a binary tree of `2^depth - 1` fields
/// (issue 9: 131 000 fields took 40 s inside one revision comparison).
fn with_field_tree(signed: &[u8], depth: u32) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(signed).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let pages = doc.get_dictionary(root).unwrap().get(b"Pages").unwrap();
    let pages = pages.as_reference().unwrap().0;
    let prev = signed.len()
        - 9
        - signed
            .windows(9)
            .rev()
            .position(|w| w == b"startxref")
            .unwrap();
    let prev: usize = std::str::from_utf8(&signed[prev + 9..])
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let first = doc.max_id + 1;
    let count = (1u32 << depth) - 1;
    let mut out = signed.to_vec();
    let mut offsets = vec![(root.0, out.len())];
    write!(
        out,
        "\n{} 0 obj <</Type/Catalog/Pages {pages} 0 R/AcroForm<</Fields[{first} 0 R]>>>> endobj\n",
        root.0
    )
    .unwrap();
    for i in 0..count {
        offsets.push((first + i, out.len()));
        let kids = if 2 * i + 2 < count {
            format!("/Kids[{} 0 R {} 0 R]", first + 2 * i + 1, first + 2 * i + 2)
        } else {
            "/FT/Tx".into()
        };
        writeln!(out, "{} 0 obj <</T(f{i}){kids}>> endobj", first + i).unwrap();
    }
    let xref = out.len();
    writeln!(out, "xref\n{} 1\n{:010} 00000 n ", root.0, offsets[0].1).unwrap();
    writeln!(out, "{first} {count}").unwrap();
    for (_, offset) in &offsets[1..] {
        writeln!(out, "{offset:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<</Size {}/Root {} 0 R/Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n",
        first + count,
        root.0
    )
    .unwrap();
    out
}

/// The time budget holds inside reading and inside one revision comparison: a later revision
/// with 2^17 fields is refused with the limit's code (whatever the machine's speed, reading and
/// analysing so many fields in a debug build takes longer than the one second allowed here),
/// about when the second is spent rather than after reading all of them.
#[tokio::test]
async fn a_huge_field_tree_after_signing_stays_within_the_time_budget() {
    let app = spawn_app_with(|s| s.pdf.max_verify_seconds = 1).await;
    let signed = app
        .signed(
            &crate::fixtures::sample_pdf(crate::fixtures::XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                level: Some("B-B"),
                ..Default::default()
            },
        )
        .await;
    let pdf = with_field_tree(&signed, 17);
    let code = app.refused("field-tree-after-signing.pdf", &pdf, 400).await;
    assert_eq!(code, "pdf_too_complex");
}
