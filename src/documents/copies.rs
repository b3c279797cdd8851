//! Certified electronic copies (bản sao điện tử chứng thực từ bản chính): the scan as uploaded
//! (a PDF, or JPEG/PNG pages wrapped into one), then the certification statement added in an
//! incremental update so the scanned bytes stay a byte-for-byte prefix, then the signatures.

use super::{authority, Issuance, IssueRequest, Issuer, Numbered, Unsigned};
use crate::clients::Client;
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::pdf::read::{self, Limits};
use crate::pdf::render::scan;
use crate::pdf::render::statement::{self, Statement};
use crate::pdf::{certify, object};
use crate::signing::Placement;
use crate::vietnam::words;

/// The PDF to certify: an uploaded PDF as is, or the uploaded images wrapped into one, each
/// image's size read from its header and refused above `max_pixels` before any decoding.
/// `415` for other file types, `400` for damaged files, `413` for too many pixels.
pub fn original(files: Vec<Vec<u8>>, limits: &Limits, max_pixels: u64) -> Result<Vec<u8>> {
    let is_pdf = |f: &[u8]| f.get(..1024).unwrap_or(f).windows(5).any(|w| w == b"%PDF-");
    match files.as_slice() {
        [] => Err(Error::bad_request("missing file field `file`")),
        [pdf] if is_pdf(pdf) => {
            // Refuse what cannot be certified before a number is taken for it.
            let doc = read::writable(pdf, limits)?;
            if doc.get_pages().is_empty() {
                return Err(
                    kyso_core::Error::PdfMalformed("the document has no pages".into()).into(),
                );
            }
            if object::is_signed(&doc) {
                return Err(kyso_core::Error::PdfAlreadySigned.into());
            }
            Ok(files.into_iter().next().unwrap_or_default())
        }
        many if many.iter().any(|f| is_pdf(f)) => Err(Error::bad_request(
            "upload one PDF, or one or more JPEG/PNG pages, not both",
        )),
        images => {
            scan::check_pixels(images, max_pixels)?;
            Ok(scan::wrap(images, "Bản chụp bản chính")?)
        }
    }
}

impl Issuer<'_> {
    /// Certifies the uploaded `files` (see `original`), read only once the key's rights and
    /// the PINs are checked.
    pub fn certify_copy(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        req: &IssueRequest,
        files: Vec<Vec<u8>>,
    ) -> Result<Issuance> {
        let docs = &self.settings.documents;
        let labels = |n: i32, year: i32| {
            (
                docs.copy_number.replace("{n}", &n.to_string()),
                docs.copy_book.replace("{year}", &year.to_string()),
            )
        };
        let max_pixels = self.settings.security.max_image_pixels;
        let limits = &self.settings.pdf;
        let input = move || original(files, limits, max_pixels);
        let render = |n: &Numbered<'_>, original: &Vec<u8>| -> Result<Unsigned> {
            let statement = Statement {
                authority: authority(n.commune),
                text: docs.copy_statement.clone(),
                number: format!("Số chứng thực: {}", n.number_label),
                book: format!("Quyển số: {}", n.book_label),
                date: words::capitalize(&format!(
                    "ngày {} tháng {} năm {}",
                    n.time.format("%d"),
                    n.time.format("%m"),
                    n.time.format("%Y")
                )),
                certifier_heading: docs.certifier_heading.clone(),
                certifier_title: n.official.title.clone(),
                certifier_name: n.official.name.clone(),
                lookup_url: n.lookup_url.clone(),
                lookup_lines: vec![
                    format!("Mã tra cứu: {}", n.lookup_code),
                    n.lookup_url.clone(),
                ],
            };
            let certified =
                certify::certify(original, &statement, docs.certification, &self.settings.pdf)?;
            Ok(Unsigned {
                pdf: certified.pdf,
                signature: Placement {
                    page: certified.signature_page,
                    rect: certified.signature_rect,
                },
                agency: Placement {
                    page: certified.signature_page,
                    rect: statement::agency_rect(certified.signature_rect),
                },
            })
        };
        self.issue(conn, client, req, input, labels, render)
    }
}
