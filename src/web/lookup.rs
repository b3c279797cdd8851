//! `/d/{code}`: the public page the QR code on an issued document leads to. It shows the
//! issuance record and checks an uploaded file: is it exactly the issued one (SHA-256), and do
//! its signatures verify.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use crate::app::AppState;
use crate::db::{self, models::Document};
use crate::documents::{self, Kind};
use crate::error::{Error, Result};
use crate::http::form::{Budget, Form};
use crate::pdf::verify::{
    self,
    report::{Indication, Report},
};
use crate::pki::cms::sha256;
use crate::signers;

/// The record as shown: document, authority, signer and agency names.
struct Record {
    document: Document,
    commune: String,
    official: (String, String),
    agency: Option<String>,
}

fn record(state: &AppState, code: &str) -> Result<Record> {
    let mut conn = db::get(&state.pool)?;
    let document = documents::find_by_code(&mut conn, code)?;
    let commune = signers::commune(&mut conn, &document.commune_code)?;
    let official = signers::find(&mut conn, &document.official_id)?;
    let agency = document
        .agency_id
        .as_deref()
        .map(|id| signers::find(&mut conn, id).map(|s| s.name))
        .transpose()?;
    Ok(Record {
        commune: documents::authority(&commune),
        official: (official.name, official.title),
        agency,
        document,
    })
}

pub async fn show(state: web::Data<AppState>, code: web::Path<String>) -> Result<HttpResponse> {
    let code = code.into_inner();
    let dev = state.settings.dev_mode;
    let found = crate::http::blocking(move || record(&state, &code)).await;
    Ok(page(dev, found, None))
}

pub async fn check(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse> {
    crate::http::same_origin(&req, &state)?;
    let slot = crate::http::verify::slot(&state)?;
    let mut form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await?;
    let file = form.file("file")?;
    let code = code.into_inner();
    let dev = state.settings.dev_mode;
    let (found, verdict) = crate::http::blocking(move || {
        let _slot = slot;
        let found = record(&state, &code);
        let verdict = match &found {
            Ok(r) => Some(check_file(&state, &r.document, &file)?),
            Err(_) => None,
        };
        Ok((found, verdict))
    })
    .await?;
    Ok(page(dev, found, verdict))
}

/// The outcome of checking one uploaded file against the record.
struct Verdict {
    identical: bool,
    /// `None`: not a readable PDF.
    report: Option<Report>,
}

fn check_file(state: &AppState, document: &Document, file: &[u8]) -> Result<Verdict> {
    Ok(Verdict {
        identical: hex::encode(sha256(file)?) == document.sha256,
        report: verify::verify(file, &state.verification())
            .inspect(|r| state.metrics.verification(&r.indication.to_string()))
            .ok(),
    })
}

fn page(dev: bool, found: Result<Record>, verdict: Option<Verdict>) -> HttpResponse {
    match found {
        Ok(record) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(
                super::layout(dev, "Tra cứu văn bản", body(&record, verdict.as_ref()))
                    .into_string(),
            ),
        Err(e) => {
            let status = match e {
                Error::NotFound(_) => actix_web::http::StatusCode::NOT_FOUND,
                _ => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status.is_server_error() {
                tracing::error!(error = %e, "lookup page failed");
            }
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(
                    super::layout(
                        dev,
                        "Không tìm thấy văn bản",
                        html! {
                            h1 { "Không tìm thấy văn bản" }
                            p { "Mã tra cứu này không khớp với văn bản nào do kyso cấp. Hãy kiểm tra lại mã in trên văn bản." }
                        },
                    )
                    .into_string(),
                )
        }
    }
}

fn body(r: &Record, verdict: Option<&Verdict>) -> Markup {
    let d = &r.document;
    let kind = Kind::parse(&d.kind).map_or_else(|| d.kind.clone(), |k| k.name_vi().to_owned());
    html! {
        h1 { "Tra cứu văn bản đã cấp" }
        @if let Some(v) = verdict {
            (verdict_card(v))
        }
        div.card {
            dl.facts {
                dt { "Loại văn bản" } dd { (kind) }
                // The number as printed under the authority; a copy also prints its book.
                dt { "Số" } dd { (d.number_label) }
                @if d.kind == Kind::CertifiedCopy.as_str() { dt { "Quyển số" } dd { (d.book_label) } }
                dt { "Cơ quan cấp" } dd { (r.commune) }
                dt { "Người ký" } dd { (r.official.0) " — " (r.official.1) }
                dt { "Chữ ký số cơ quan" } dd {
                    @match &r.agency {
                        Some(agency) => { (agency) " (" (d.sealed_at.as_deref().map(crate::vietnam::rfc3339).unwrap_or_default()) ")" }
                        None => "Chưa có",
                    }
                }
                dt { "Thời điểm cấp" } dd { (crate::vietnam::rfc3339(&d.created_at)) }
                dt { "Mã tra cứu" } dd { code { (d.lookup_code) } }
                dt { "SHA-256" } dd { code { (d.sha256) } }
            }
        }
        h2 { "Kiểm tra một tệp" }
        p.muted { "Chọn tệp PDF bạn nhận được để xem có đúng là bản đã cấp hay không và chữ ký số của tệp có còn nguyên vẹn không. Tệp chỉ được kiểm tra, không được lưu lại." }
        form.upload method="post" enctype="multipart/form-data" {
            label for="file" { "Tệp PDF bạn nhận được: " }
            input #file type="file" name="file" accept="application/pdf" required;
            " "
            button type="submit" { "Kiểm tra" }
        }
    }
}

fn verdict_card(v: &Verdict) -> Markup {
    let all_intact = v
        .report
        .as_ref()
        .is_some_and(|r| !r.signatures.is_empty() && r.indication == Indication::TotalPassed);
    // One verdict for both questions: is this the issued file, and do its signatures hold.
    let (class, vi, en) = match (v.identical, all_intact) {
        (true, true) => (
            "card passed",
            "Đúng là bản đã cấp, chữ ký số hợp lệ: tệp trùng khớp từng byte với bản được lưu.",
            "This is the issued file and its signatures are valid.",
        ),
        (true, false) => (
            "card indeterminate",
            "Đúng là bản đã cấp (trùng khớp từng byte), nhưng chữ ký số chưa xác nhận được là hợp lệ; xem chi tiết dưới đây.",
            "This is the issued file, but its signatures could not be confirmed as valid.",
        ),
        (false, true) => (
            "card failed",
            "Không phải bản đã cấp: nội dung khác với bản được lưu, dù chữ ký số trong tệp còn nguyên vẹn.",
            "Not the issued file: its content differs from the record, although its own signatures are intact.",
        ),
        (false, false) => (
            "card failed",
            "Không phải bản đã cấp: nội dung khác với bản được lưu.",
            "Not the issued file: its content differs from the record.",
        ),
    };
    html! {
        div #verdict class=(class) {
            p.verdict { (vi) }
            p.muted lang="en" { (en) }
            @match &v.report {
                None => p { "Không đọc được tệp như một tệp PDF." },
                Some(r) if r.signatures.is_empty() => p { "Tệp không có chữ ký số nào." },
                Some(r) => {
                    p {
                        "Tệp có " (r.document.signatures) " chữ ký số"
                        @if r.document.document_timestamps > 0 { " và " (r.document.document_timestamps) " dấu thời gian tài liệu" }
                        ":"
                    }
                    ul {
                        @for s in &r.signatures {
                            li {
                                (s.signer.as_ref().and_then(|c| c.common_name.as_deref()).unwrap_or("(không rõ người ký)")) ": "
                                (s.explanation.vi)
                                @if !s.coverage.later_changes.is_empty() {
                                    @let (vi, en) = s.coverage.modification_level.describe();
                                    details open[s.coverage.later_changes.iter().any(|c| !c.allowed)] {
                                        summary {
                                            "Thay đổi sau khi ký: " (vi)
                                            span.muted lang="en" { " (changes after signing: " (en) ")" }
                                        }
                                        (super::verify::changes_table(&s.coverage.later_changes))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
