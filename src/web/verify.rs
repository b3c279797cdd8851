//! The page officials use to check a signed PDF: drop a file, read one card per signature
//! (green passed, red failed, amber indeterminate), with the technical report folded below.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::layout;
use crate::pdf::verify::parse_pdf_date;
use crate::pdf::verify::report::{Change, Indication, Report, SignatureReport};
use crate::vietnam;

/// The upload form, and the report of the last upload when there is one.
pub fn page(dev: bool, result: Option<Result<&Report, String>>) -> Markup {
    layout(
        dev,
        "Kiểm tra chữ ký số",
        html! {
            h1 { "Kiểm tra chữ ký số trên tài liệu PDF" }
            p.muted {
                "Chọn hoặc kéo thả tệp PDF đã ký. Tệp chỉ được dùng để kiểm tra, không được lưu lại. "
                span lang="en" { "(Check the digital signatures of a PDF. The file is not stored.)" }
            }
            form.upload method="post" action="/verify" enctype="multipart/form-data" {
                label for="file" { "Tệp PDF đã ký: " }
                input #file type="file" name="file" accept="application/pdf,.pdf" required;
                " "
                label {
                    "Thời điểm kiểm tra (để trống: bây giờ) "
                    span.muted lang="en" { "(validation time, empty: now) " }
                    input #at type="datetime-local" name="at" step="1";
                }
                " "
                button type="submit" { "Kiểm tra" }
            }
            @match result {
                None => {}
                Some(Err(message)) => {
                    section.card.failed {
                        p.verdict { "Không đọc được tệp" }
                        p { (message) }
                    }
                }
                Some(Ok(report)) => { (report_view(report)) }
            }
        },
    )
}

fn class(indication: Indication) -> &'static str {
    match indication {
        Indication::TotalPassed => "passed",
        Indication::TotalFailed => "failed",
        Indication::Indeterminate => "indeterminate",
    }
}

fn verdict(indication: Indication) -> &'static str {
    match indication {
        Indication::TotalPassed => "Hợp lệ",
        Indication::TotalFailed => "Không hợp lệ",
        Indication::Indeterminate => "Chưa xác định",
    }
}

/// A distinguished name as people read it: "common name (organisation)", the full name kept
/// for a tooltip. The report holds the name as text (`C=VN, O=…, CN=…`); an attribute value
/// may itself hold a comma, so a piece without `KEY=` belongs to the value before it.
fn name_and_organisation(dn: &str) -> String {
    let mut attributes: Vec<(String, String)> = Vec::new();
    for piece in dn.split(',') {
        let key_value = piece.trim_start().split_once('=').filter(|(key, _)| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        });
        match (key_value, attributes.last_mut()) {
            (Some((key, value)), _) => attributes.push((key.to_owned(), value.trim().to_owned())),
            (None, Some((_, value))) => {
                value.push(',');
                value.push_str(piece);
            }
            (None, None) => {}
        }
    }
    let get = |name: &str| {
        attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    match (get("CN"), get("O")) {
        (Some(cn), Some(o)) if cn != o => format!("{cn} ({o})"),
        (Some(name), _) | (None, Some(name)) => name.to_owned(),
        (None, None) => dn.to_owned(),
    }
}

fn vn_time(t: DateTime<Utc>) -> String {
    vietnam::date_time(t)
}

fn report_view(report: &Report) -> Markup {
    let overall = if report.signatures.is_empty() {
        Indication::Indeterminate
    } else {
        report.indication
    };
    html! {
        section #summary class={ "card " (class(overall)) } data-indication=(report.indication) {
            p.verdict { (verdict(overall)) }
            p { (report.summary.vi) }
            p.muted lang="en" { (report.summary.en) }
            dl.facts {
                dt { "Thời điểm kiểm tra" } dd { (DateTime::parse_from_rfc3339(&report.validation_time).map(|t| vn_time(t.with_timezone(&Utc))).unwrap_or_default()) }
                dt { "Số chữ ký" } dd { (report.document.signatures) }
                @if report.document.document_timestamps > 0 { dt { "Số dấu thời gian tài liệu" } dd { (report.document.document_timestamps) } }
                dt { "Số lần tệp được lưu (ký hoặc sửa)" } dd { (report.document.revisions) }
                dt { "SHA-256" } dd { code { (report.document.sha256) } }
            }
            @if !report.warnings.is_empty() {
                div #warnings {
                    p { "Tệp có lỗi cấu trúc nhưng vẫn đọc được (đã sửa khi đọc, như qpdf):" }
                    ul lang="en" { @for w in &report.warnings { li { (w) } } }
                }
            }
        }
        @for sig in &report.signatures {
            (signature_card(sig, report.document.revisions))
        }
        details {
            summary { "Báo cáo kỹ thuật (JSON)" }
            pre { (serde_json::to_string_pretty(report).unwrap_or_default()) }
        }
    }
}

/// One row per change: where, what, and the rule that judged it (Vietnamese, then English).
pub fn changes_table(changes: &[Change]) -> Markup {
    html! {
        table.changes {
            tr {
                th { "Phiên bản" } th { "Đối tượng" } th { "Thay đổi" } th { "Đánh giá" }
            }
            @for c in changes {
                tr data-allowed=(c.allowed) {
                    td { (c.revision) }
                    td { code { (c.object) } }
                    td {
                        (c.action.vi()) " " code { (c.kind) }
                        span.muted lang="en" { " (" (c.what) ")" }
                    }
                    td {
                        @if c.allowed { "được phép" } @else { strong { "không được phép" } }
                        ": " (c.rule.vi)
                        br;
                        span.muted lang="en" { (if c.allowed { "allowed" } else { "not allowed" }) ": " (c.rule.en) }
                    }
                }
            }
        }
    }
}

fn signature_card(sig: &SignatureReport, revisions: usize) -> Markup {
    let signer = sig.signer.as_ref();
    let claimed = sig.claimed_signing_time.as_deref().and_then(parse_pdf_date);
    let disallowed: Vec<_> = sig
        .coverage
        .later_changes
        .iter()
        .filter(|c| !c.allowed)
        .collect();
    html! {
        section class={ "card signature " (class(sig.indication)) } data-field=(sig.field) {
            p.verdict {
                (verdict(sig.indication))
                @if let Some(sub) = sig.sub_indication { span.muted { " · " (sub) } }
            }
            p { (sig.explanation.vi) }
            p.muted lang="en" { (sig.explanation.en) }
            dl.facts {
                dt { "Người ký" } dd { (signer.and_then(|s| s.common_name.clone()).unwrap_or_else(|| "không rõ".into())) }
                @if let Some(org) = signer.and_then(|s| s.organization.as_deref()) { dt { "Cơ quan" } dd { (org) } }
                @if let Some(s) = signer { @if !s.uids.is_empty() { dt { "Mã định danh" } dd { (s.uids.join(", ")) } } }
                @if let Some(s) = signer { dt { "Tổ chức cấp" } dd title=(s.issuer) { (name_and_organisation(&s.issuer)) } }
                @if let Some(t) = claimed { dt { "Thời điểm ký (khai báo)" } dd { (vn_time(t)) } }
                @if let Some(ts) = &sig.timestamp {
                    dt { "Dấu thời gian" }
                    dd {
                        @if ts.valid {
                            (DateTime::parse_from_rfc3339(&ts.time).map(|t| vn_time(t.with_timezone(&Utc))).unwrap_or_default())
                            @if let Some(tsa) = &ts.authority { span.muted title=(tsa) { " — " (name_and_organisation(tsa)) } }
                        } @else { "không hợp lệ" }
                    }
                }
                @if let Some(level) = sig.level { dt { "Chuẩn chữ ký" } dd { "PAdES " (level) } }
                @if let Some(v) = &sig.validated_at {
                    dt { "Chứng thư được kiểm tra tại" }
                    dd {
                        (DateTime::parse_from_rfc3339(&v.time).map(|t| vn_time(t.with_timezone(&Utc))).unwrap_or_default())
                        @if v.basis == "proof_of_existence" { span.muted { " — thời điểm dấu thời gian chứng minh chữ ký đã tồn tại" } }
                    }
                }
                @if !sig.coverage.whole_file && sig.coverage.revision.is_some() {
                    @let (vi, en) = sig.coverage.modification_level.describe();
                    dt { "Mức thay đổi sau khi ký" }
                    dd { (vi) span.muted lang="en" { " (" (en) ")" } }
                }
                dt { "Phạm vi" }
                dd {
                    @match (sig.coverage.whole_file, sig.coverage.revision) {
                        (true, _) => { "Toàn bộ tài liệu" }
                        (false, Some(r)) => {
                            "Phiên bản " (r) "/" (revisions) "; sau đó có "
                            (sig.coverage.later_changes.len()) " thay đổi"
                            @if disallowed.is_empty() { " (đều được phép)" } @else { ", trong đó " strong { (disallowed.len()) " thay đổi không được phép" } }
                        }
                        (false, None) => { "Không xác định" }
                    }
                }
            }
            @if !sig.coverage.later_changes.is_empty() {
                details open[!disallowed.is_empty()] {
                    summary { "Những thay đổi sau khi ký " span.muted lang="en" { "(changes after signing)" } }
                    (changes_table(&sig.coverage.later_changes))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_and_organisation;

    #[test]
    fn distinguished_names_read_as_name_and_organisation() {
        assert_eq!(
            name_and_organisation("C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ các cơ quan"),
            "CA phục vụ các cơ quan (Ban Cơ yếu Chính phủ)"
        );
        // A comma inside a value stays in it.
        assert_eq!(
            name_and_organisation("C=VN, O=Viettel Group, Ltd, CN=Viettel-CA"),
            "Viettel-CA (Viettel Group, Ltd)"
        );
        assert_eq!(name_and_organisation("CN=Only A Name"), "Only A Name");
        assert_eq!(name_and_organisation("C=VN, O=Org Only"), "Org Only");
        assert_eq!(name_and_organisation("garbage"), "garbage");
    }
}
