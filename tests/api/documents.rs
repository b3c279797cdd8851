//! Issuing documents end to end: extracts and certified copies through the API, checked by
//! pdftotext, pdftoppm, pdfsig, pyHanko and qpdf; numbering under concurrency; bad input.

use kyso::clients::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp};
use crate::validators::{
    artifact_dir, pdftoppm, pdftoppm_at, pdftotext, pyhanko_validate, qr_codes, RenderedPage,
};

/// The text with every run of whitespace made one space, so wrapped and column-aligned
/// `pdftotext -layout` output compares with the values sent.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every string leaf of `value` except PINs and identifiers that are not printed as is.
fn printed_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Object(map) => {
            for (key, v) in map {
                if ![
                    "kind",
                    "commune",
                    "signer",
                    "pin",
                    "agency_pin",
                    "date",
                    "date_of_birth",
                    "from",
                    "to",
                    "time",
                ]
                .contains(&key.as_str())
                {
                    printed_values(v, out);
                }
            }
        }
        _ => {}
    }
}

fn birth() -> Value {
    json!({
        "kind": "birth",
        "commune": "99001",
        "signer": "99001-civil-status",
        "register": {"book": "01/2026", "number": "125", "date": "2026-03-10",
                     "authority": "Ủy ban nhân dân phường Thành Đông, thành phố Hải Phòng"},
        "child": {
            "full_name": "Nguyễn Thị Ánh Tuyết",
            "sex": "Nữ",
            "date_of_birth": "2026-03-05",
            "place_of_birth": "Bệnh viện Phụ sản Hải Phòng, phường Lê Chân, thành phố Hải Phòng",
            "home_town": "Xã An Hưng, thành phố Hải Phòng",
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "personal_id": "031326001234"
        },
        "mother": {
            "full_name": "Trần Thị Hồng Nhung",
            "year_of_birth": 1995,
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "residence": "Số 12 ngõ 34 đường Lạch Tray, phường Thành Đông, thành phố Hải Phòng"
        },
        "father": {
            "full_name": "Nguyễn Văn Đức",
            "year_of_birth": 1992,
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "residence": "Số 12 ngõ 34 đường Lạch Tray, phường Thành Đông, thành phố Hải Phòng"
        }
    })
}

fn marriage() -> Value {
    json!({
        "kind": "marriage",
        "commune": "99001",
        "signer": "99001-civil-status",
        "register": {"book": "01/2025", "number": "48", "date": "2025-12-20",
                     "authority": "Ủy ban nhân dân phường Thành Đông"},
        "husband": {
            "full_name": "Phạm Quốc Bảo", "date_of_birth": "1994-07-21", "ethnicity": "Kinh",
            "nationality": "Việt Nam", "residence": "Tổ dân phố 5, phường Thành Đông, thành phố Hải Phòng",
            "identity_document": "CCCD số 031094005678"
        },
        "wife": {
            "full_name": "Lý Thị Mỹ Duyên", "date_of_birth": "1997-02-14", "ethnicity": "Tày",
            "nationality": "Việt Nam", "residence": "Thôn Đồng Tâm, xã An Hưng, thành phố Hải Phòng",
            "identity_document": "CCCD số 031197009876"
        }
    })
}

fn death() -> Value {
    json!({
        "kind": "death",
        "commune": "99001",
        "signer": "99001-civil-status",
        "register": {"book": "01/2026", "number": "17", "date": "2026-11-20",
                     "authority": "Ủy ban nhân dân phường Thành Đông"},
        "deceased": {
            "full_name": "Hoàng Văn Thụ", "date_of_birth": "1941-09-02", "sex": "Nam",
            "ethnicity": "Kinh", "nationality": "Việt Nam",
            "identity_document": "CCCD số 031041000111",
            "last_residence": "Số 5 phố Cầu Đất, phường Thành Đông, thành phố Hải Phòng"
        },
        "death": {"date": "2026-11-18", "time": "14:30", "place": "Bệnh viện Việt Tiệp, thành phố Hải Phòng",
                  "cause": "Tuổi già"},
        "death_notice": {"number": "215/GBT", "issuer": "Bệnh viện Việt Tiệp", "date": "2026-11-18"}
    })
}

pub fn marital_status() -> Value {
    json!({
        "kind": "marital_status",
        "commune": "99001",
        "signer": "99001-vice-chair",
        "requester": "Đỗ Thùy Linh",
        "person": {
            "full_name": "Đỗ Thùy Linh", "date_of_birth": "1999-04-24", "sex": "Nữ",
            "ethnicity": "Kinh", "nationality": "Việt Nam",
            "identity_document": "CCCD số 031199004321",
            "residence": "Số 8 đường Văn Cao, phường Thành Đông, thành phố Hải Phòng"
        },
        "residence_period": {"place": "phường Thành Đông, thành phố Hải Phòng",
                             "from": "2017-09-01", "to": "2026-11-25"},
        "marital_status": "Chưa đăng ký kết hôn với ai",
        "purpose": "làm thủ tục đăng ký kết hôn"
    })
}

impl TestApp {
    pub async fn post_extract(&self, mut body: Value, key: Option<&str>) -> reqwest::Response {
        let signer = body["signer"].as_str().unwrap_or_default().to_owned();
        if body.get("pin").is_none() && !signer.is_empty() {
            body["pin"] = json!(self.pki.pin(&signer));
        }
        let mut request = self
            .http
            .post(format!("{}/api/v1/extracts", self.address))
            .bearer_auth(&self.admin_key)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("request")
    }

    pub async fn post_copy(
        &self,
        files: Vec<(&str, Vec<u8>)>,
        extra: &[(&str, String)],
    ) -> reqwest::Response {
        let mut form = Form::new()
            .text("commune", "99001")
            .text("signer", "99001-chair")
            .text("pin", self.pki.pin("99001-chair"));
        for (name, value) in extra {
            form = form.text(name.to_string(), value.clone());
        }
        for (name, bytes) in files {
            form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
        }
        self.http
            .post(format!("{}/api/v1/certified-copies", self.address))
            .bearer_auth(&self.admin_key)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// `scan` issued as a certified copy, signed and sealed at once: the document's JSON and
    /// its PDF.
    pub async fn sealed_copy(&self, scan: &[u8]) -> (Value, Vec<u8>) {
        let response = self
            .post_copy(
                vec![("scan.pdf", scan.to_vec())],
                &[("agency_pin", self.agency_pin())],
            )
            .await;
        let document = self.json_ok(response, 201).await;
        let pdf = self.download(&document).await;
        (document, pdf)
    }

    pub async fn json_ok(&self, response: reqwest::Response, status: u16) -> Value {
        let got = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(got, status, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub async fn download(&self, document: &Value) -> Vec<u8> {
        let response = self
            .http
            .get(format!(
                "{}{}",
                self.address,
                document["pdf"].as_str().unwrap()
            ))
            .bearer_auth(&self.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    }

    pub fn agency_pin(&self) -> String {
        self.pki.pin("99001-agency")
    }

    /// `POST /api/v1/documents/{id}/seal` of `document` with `pin`.
    pub async fn seal(&self, document: &Value, pin: String) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/api/v1/documents/{}/seal",
                self.address,
                document["id"].as_str().unwrap()
            ))
            .bearer_auth(&self.admin_key)
            .json(&json!({"agency_pin": pin}))
            .send()
            .await
            .unwrap()
    }
}

/// Non-blank A4 pages, saved as artifacts.
fn assert_rendered(pdf: &[u8], name: &str, pages: usize) {
    let rendered = pdftoppm(pdf);
    assert_eq!(rendered.len(), pages);
    for (i, page) in rendered.iter().enumerate() {
        // A4 is 595.28 × 841.89 pt: pdftoppm gives 596 × 842 (the fixtures' 595 × 842).
        assert!(
            (595..=596).contains(&page.width) && page.height == 842,
            "{name} page {}: {} × {}",
            i + 1,
            page.width,
            page.height
        );
        assert!(
            page.ink > 0.002,
            "{name} page {} is blank ({})",
            i + 1,
            page.ink
        );
        std::fs::write(
            artifact_dir("documents").join(format!("{name}-{}.png", i + 1)),
            &page.png,
        )
        .unwrap();
    }
    std::fs::write(artifact_dir("documents").join(format!("{name}.pdf")), pdf).unwrap();
}

#[tokio::test]
async fn every_extract_kind_reads_back_exactly_and_is_signed_twice() {
    let app = spawn_app().await;
    let agency_pin = app.agency_pin();
    for (body, title, words) in [
        (birth(), "TRÍCH LỤC KHAI SINH", vec!["Ngày mồng năm tháng ba năm hai nghìn không trăm hai mươi sáu"]),
        (marriage(), "TRÍCH LỤC KẾT HÔN", vec!["Ngày, tháng, năm đăng ký: 20/12/2025"]),
        (death(), "TRÍCH LỤC KHAI TỬ", vec![
            "14 giờ 30 phút, ngày 18/11/2026",
            "Mười bốn giờ ba mươi phút, ngày mười tám tháng mười một năm hai nghìn không trăm hai mươi sáu",
        ]),
        (marital_status(), "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", vec![
            "Số: 1/UBND-XNTTHN",
            "XÁC NHẬN:",
            "từ ngày 01/09/2017 đến ngày 25/11/2026",
            "có giá trị sử dụng trong thời hạn 6 tháng, kể từ ngày cấp, được sử dụng để làm thủ tục đăng ký kết hôn.",
        ]),
    ] {
        let kind = body["kind"].as_str().unwrap().to_owned();
        let mut request = body.clone();
        request["agency_pin"] = json!(agency_pin);
        let document = app.json_ok(app.post_extract(request, None).await, 201).await;
        assert_eq!(document["state"], "sealed");
        assert_eq!(document["number"], 1, "{kind}: first of its book");
        let pdf = app.download(&document).await;
        assert_eq!(document["sha256"], hex::encode(openssl::sha::sha256(&pdf)));

        let text = squeeze(&pdftotext(&pdf));
        let mut expected = vec![
            "UBND PHƯỜNG THÀNH ĐÔNG".to_owned(),
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            "Độc lập - Tự do - Hạnh phúc".into(),
            title.into(),
            document["lookup_code"].as_str().unwrap().into(),
            app.pki.signer(body["signer"].as_str().unwrap()).name.clone(),
        ];
        expected.extend(words.iter().map(|w| w.to_string()));
        // One number called `Số`, the extract's own (as the lookup page shows it); the
        // register entry it is copied from under its own labels.
        expected.push(format!("Số: {}", document["number_label"].as_str().unwrap()));
        if let Some(register) = body.get("register") {
            expected.push(format!("Số đăng ký: {}", register["number"].as_str().unwrap()));
            expected.push(format!("Quyển số: {}", register["book"].as_str().unwrap()));
        }
        printed_values(&body, &mut expected);
        for value in &expected {
            assert!(text.contains(value.as_str()), "{kind}: `{value}` missing from:\n{text}");
        }
        assert_eq!(text.matches("Số:").count(), 1, "{kind}: {text}");
        assert!(!text.contains("Số cấp"), "{kind}: {text}");
        assert!(text.contains("Ký bởi: UBND Phường Thành Đông") || text.contains("Ký bởi:"), "{text}");
        assert_rendered(&pdf, &kind, 1);
        app.assert_accepted(&pdf, 2);
        // A TSA is configured (kyso's own in dev mode), so both signatures are timestamped.
        for line in pyhanko_validate(&pdf, &app.pki.root()).unwrap() {
            assert!(line.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "{kind}: {line}");
        }
        // With the dev CA's list at hand too, the best level is B-LTA: the agency's signature
        // brings the whole file there, with one archive timestamp.
        assert_levels(&app.verify(&pdf).await, 2, "B-LTA");
    }
}

/// kyso reports `signatures` signatures at `level`, and one document timestamp for B-LTA.
fn assert_levels(report: &Value, signatures: usize, level: &str) {
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    assert_eq!(report["document"]["signatures"], signatures, "{report:#}");
    let stamps = usize::from(level == "B-LTA");
    assert_eq!(
        report["document"]["document_timestamps"], stamps,
        "{report:#}"
    );
    for sig in report["signatures"].as_array().unwrap() {
        if sig["kind"] == "signature" {
            assert_eq!(sig["level"], level, "{sig:#}");
        }
    }
}

#[tokio::test]
async fn a_level_can_be_asked_for_an_extract_and_a_copy() {
    let app = spawn_app().await;
    let mut request = birth();
    request["level"] = json!("B-T");
    let document = app
        .json_ok(app.post_extract(request, None).await, 201)
        .await;
    let pdf = app.download(&document).await;
    app.assert_accepted(&pdf, 1);
    assert_levels(&app.verify(&pdf).await, 1, "B-T");

    let response = app
        .post_copy(
            vec![("scan.pdf", sample_pdf(XrefStyle::Classic))],
            &[("level", "B-LT".to_owned())],
        )
        .await;
    let document = app.json_ok(response, 201).await;
    let pdf = app.download(&document).await;
    app.assert_accepted(&pdf, 1);
    assert_levels(&app.verify(&pdf).await, 1, "B-LT");

    let mut request = birth();
    request["level"] = json!("B-LTX");
    let response = app.post_extract(request, None).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "level", "{error:#}");
    let response = app
        .post_copy(
            vec![("scan.pdf", sample_pdf(XrefStyle::Classic))],
            &[("level", "B-LTX".to_owned())],
        )
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn invalid_fields_are_all_reported_at_once() {
    let app = spawn_app().await;
    let mut body = birth();
    body["child"]["personal_id"] = json!("12345");
    body["child"]["date_of_birth"] = json!("2026-02-30");
    body["child"]["sex"] = json!("khác");
    body["child"].as_object_mut().unwrap().remove("full_name");
    body["mother"]["year_of_birth"] = json!(1850);
    body["register"]["date"] = json!("2999-01-01");
    body["register"]["number"] = json!("x".repeat(60));
    body["extra"] = json!(1);
    let response = app.post_extract(body, None).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "validation_failed");
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for field in [
        "child.personal_id",
        "child.date_of_birth",
        "child.sex",
        "child.full_name",
        "mother.year_of_birth",
        "register.date",
        "register.number",
        "extra",
    ] {
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }

    for broken in [&b"{not json"[..], b"[1, 2]"] {
        let response = app
            .http
            .post(format!("{}/api/v1/extracts", app.address))
            .bearer_auth(&app.admin_key)
            .header("Content-Type", "application/json")
            .body(broken.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 422).await, "validation_failed");
    }
    let huge = app
        .http
        .post(format!("{}/api/v1/extracts", app.address))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(huge, 413).await, "payload_too_large");
    let unknown_kind = app.post_extract(json!({"kind": "adoption"}), None).await;
    let error: Value = unknown_kind.json().await.unwrap();
    let fields = error["error"]["fields"].as_array().unwrap();
    assert!(fields.len() >= 4, "kind, commune, signer, pin: {fields:?}");
    assert_eq!(document_count(&app), 0);
}

fn document_count(app: &TestApp) -> i64 {
    use diesel::dsl::count_star;
    use diesel::{QueryDsl, RunQueryDsl};
    kyso::db::schema::documents::table
        .select(count_star())
        .get_result(&mut *kyso::db::get(&app.pool).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_wrong_pin_issues_nothing_and_consumes_no_number() {
    let app = spawn_app().await;
    let mut body = birth();
    body["pin"] = json!("not-the-pin");
    assert_eq!(
        error_code(app.post_extract(body, None).await, 403).await,
        "pin_wrong"
    );
    let mut body = birth();
    body["agency_pin"] = json!("not-the-agency-pin");
    assert_eq!(
        error_code(app.post_extract(body, None).await, 403).await,
        "pin_wrong"
    );
    assert_eq!(document_count(&app), 0);
    let document = app
        .json_ok(app.post_extract(birth(), None).await, 201)
        .await;
    assert_eq!(document["number"], 1);
    assert_eq!(document["number_label"], "1/TLKS");
    assert_eq!(document["state"], "signed_official");
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_same_document() {
    let app = spawn_app().await;
    let first = app
        .json_ok(app.post_extract(birth(), Some("req-42")).await, 201)
        .await;
    let again = app
        .json_ok(app.post_extract(birth(), Some("req-42")).await, 200)
        .await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["sha256"], again["sha256"]);
    let mut other = birth();
    other["child"]["full_name"] = json!("Nguyễn Văn Khác");
    assert_eq!(
        error_code(app.post_extract(other, Some("req-42")).await, 409).await,
        "conflict"
    );
    assert_eq!(document_count(&app), 1);
    let next = app
        .json_ok(app.post_extract(birth(), Some("req-43")).await, 201)
        .await;
    assert_eq!(next["number"], 2);
}

#[tokio::test]
async fn certified_copies_of_other_producers_pdfs_keep_the_original_bytes() {
    let app = spawn_app().await;
    for (i, style) in XrefStyle::ALL.into_iter().enumerate() {
        let original = sample_pdf(style);
        let (document, pdf) = app.sealed_copy(&original).await;
        assert_eq!(document["number"], i as i64 + 1);
        assert!(
            pdf.starts_with(&original),
            "{style:?}: the original bytes changed"
        );
        let text = squeeze(&pdftotext(&pdf));
        let number = document["number_label"].as_str().unwrap();
        for expected in [
            "Chứng thực bản sao đúng với bản chính".to_owned(),
            format!("Số chứng thực: {number}"),
            format!("Quyển số: {}", document["book"].as_str().unwrap()),
            "Người thực hiện chứng thực".into(),
            app.pki.signer("99001-chair").name.clone(),
            crate::fixtures::page_text(1),
        ] {
            assert!(
                text.contains(&expected),
                "{style:?}: `{expected}` missing:\n{text}"
            );
        }
        assert_rendered(&pdf, &format!("copy-{style:?}"), 3);
        app.assert_accepted(&pdf, 2);
    }
}

/// Adding the statement page (or stamping the last page) after someone else's signature is a
/// change pyHanko and ISO 32000-2 §12.8.2.2 do not allow: the copy is refused before a number
/// is taken, in both placements.
#[tokio::test]
async fn an_already_signed_pdf_is_not_certified() {
    for placement in [
        kyso::config::Placement::Page,
        kyso::config::Placement::Stamp,
    ] {
        let app = spawn_app_with(|s| s.documents.certification = placement).await;
        let signed = app.signed_by_pyhanko(&sample_pdf(XrefStyle::Classic));
        let response = app
            .post_copy(
                vec![("scan.pdf", signed)],
                &[("agency_pin", app.agency_pin())],
            )
            .await;
        assert_eq!(error_code(response, 422).await, "pdf_already_signed");
        let first = app
            .post_copy(
                vec![("scan.pdf", sample_pdf(XrefStyle::Classic))],
                &[("agency_pin", app.agency_pin())],
            )
            .await;
        assert_eq!(app.json_ok(first, 201).await["number"], 1);
    }
}

#[tokio::test]
async fn the_statement_can_be_a_stamp_on_the_last_page() {
    let app = spawn_app_with(|s| s.documents.certification = kyso::config::Placement::Stamp).await;
    let original = sample_pdf(XrefStyle::Stream);
    let (document, pdf) = app.sealed_copy(&original).await;
    assert!(pdf.starts_with(&original));
    let pages: Vec<String> = pdftotext(&pdf).split('\u{c}').map(squeeze).collect();
    assert!(
        pages[1].contains("Chứng thực bản sao đúng với bản chính"),
        "{pages:?}"
    );
    assert!(
        pages[1].contains(&crate::fixtures::page_text(2)),
        "{pages:?}"
    );
    assert_rendered(&pdf, "copy-stamp", 2);
    let last = &pdftoppm_at(&pdf, 200)[1];
    assert_eq!(
        qr_codes(last),
        vec![document["lookup_url"].as_str().unwrap().to_owned()]
    );
    app.assert_accepted(&pdf, 2);
}

/// The pixels that differ between two renderings of a page at 72 dpi, as a box in PDF points
/// `[x0, y0, x1, y1]` (origin at the lower left), or `None` when they are the same.
fn changed_box(a: &RenderedPage, b: &RenderedPage) -> Option<[u32; 4]> {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "page sizes differ"
    );
    let mut found: Option<[u32; 4]> = None;
    for (i, (pa, pb)) in a.gray.iter().zip(&b.gray).enumerate() {
        if pa != pb {
            let (x, y) = (i as u32 % a.width, a.height - 1 - i as u32 / a.width);
            let f = found.get_or_insert([x, y, x, y]);
            *f = [f[0].min(x), f[1].min(y), f[2].max(x), f[3].max(y)];
        }
    }
    found
}

fn inside(inner: [u32; 4], outer: [u32; 4]) -> bool {
    inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3]
}

/// The agency's box on a certified copy covers nothing of the scan: rendered with pdftoppm,
/// every scanned page of the sealed copy is pixel for pixel the original's (its header
/// included), and the box is drawn only inside what the statement added — its own page, or
/// the stamp's frame — both when the copy is sealed at once and when it is sealed later.
#[tokio::test]
async fn the_agency_box_covers_nothing_of_the_scan() {
    use kyso::config::Placement;
    for placement in [Placement::Page, Placement::Stamp] {
        let app = spawn_app_with(move |s| s.documents.certification = placement).await;
        let original = sample_pdf(XrefStyle::Classic);
        let scan = pdftoppm(&original);
        let n = scan.len();
        let unsealed_doc = app
            .json_ok(
                app.post_copy(vec![("scan.pdf", original.clone())], &[])
                    .await,
                201,
            )
            .await;
        let unsealed = pdftoppm(&app.download(&unsealed_doc).await);
        let sealed_doc = app
            .json_ok(app.seal(&unsealed_doc, app.agency_pin()).await, 200)
            .await;
        let later_pdf = app.download(&sealed_doc).await;
        app.assert_accepted(&later_pdf, 2);
        let (_, at_once_pdf) = app.sealed_copy(&original).await;
        // Sealed at once, the agency's place comes from the renderer; sealed later, it is
        // read back from the file: the same place.
        assert_eq!(
            signature_rects(&at_once_pdf),
            signature_rects(&later_pdf),
            "{placement:?}"
        );
        for (how, pdf) in [
            ("sealed later", &later_pdf),
            ("sealed at once", &at_once_pdf),
        ] {
            let sealed = pdftoppm(pdf);
            let added = usize::from(placement == Placement::Page);
            assert_eq!(sealed.len(), n + added, "{placement:?}, {how}");
            // The scanned pages the statement leaves alone are exactly the original's.
            let untouched = if added == 1 { n } else { n - 1 };
            for i in 0..untouched {
                assert_eq!(
                    changed_box(&scan[i], &sealed[i]),
                    None,
                    "{placement:?}, {how}: scanned page {} was drawn on",
                    i + 1
                );
            }
            let last = sealed.len() - 1;
            if placement == Placement::Stamp {
                // The stamp's frame at the lower right: 316 × 314 pt from 28 pt off the
                // right edge and the foot (a pixel more each way for its stroke). The
                // statement and the agency's box stay inside.
                let w = scan[last].width;
                let frame = [w - 345, 27, w - 27, 343];
                let stamp = changed_box(&scan[last], &sealed[last]).expect("the stamp");
                assert!(inside(stamp, frame), "{how}: {stamp:?} outside {frame:?}");
            }
            if how == "sealed later" {
                // What the seal drew, against the same document before it: the box, below
                // the certifier's block, not in the page's header.
                let agency = changed_box(&unsealed[last], &sealed[last])
                    .unwrap_or_else(|| panic!("{placement:?}: no agency box drawn"));
                assert!(agency[3] < 600, "{placement:?}: box at {agency:?}");
                assert!(
                    agency[2] - agency[0] > 60 && agency[3] - agency[1] > 10,
                    "{placement:?}: box at {agency:?}"
                );
            }
            std::fs::write(
                artifact_dir("documents").join(format!(
                    "agency-{placement:?}-{}.png",
                    how.replace(' ', "-")
                )),
                &sealed[last].png,
            )
            .unwrap();
        }
    }
}

pub fn jpeg(width: u16, height: u16, shade: u8) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..height {
        for x in 0..width {
            let ink = (x / 40 + y / 40) % 2 == 0;
            let v = if ink { shade } else { 250 };
            pixels.extend([v, v / 2, 255 - v]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn png_gray_alpha(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::GrayscaleAlpha);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let data: Vec<u8> = (0..width * height)
            .flat_map(|i| [(i % 251) as u8, if i % 7 == 0 { 128 } else { 255 }])
            .collect();
        writer.write_image_data(&data).unwrap();
    }
    out
}

#[tokio::test]
async fn jpeg_and_png_scans_are_wrapped_without_re_encoding() {
    let app = spawn_app().await;
    let pages = [jpeg(1240, 1754, 20), jpeg(1754, 1240, 90)];
    let response = app
        .post_copy(
            vec![
                ("page1.jpg", pages[0].clone()),
                ("page2.jpg", pages[1].clone()),
            ],
            &[("agency_pin", app.agency_pin())],
        )
        .await;
    let document = app.json_ok(response, 201).await;
    let pdf = app.download(&document).await;
    for page in &pages {
        assert!(
            pdf.windows(page.len()).any(|w| w == &page[..]),
            "a JPEG page is not embedded byte for byte"
        );
    }
    let rendered = pdftoppm(&pdf);
    assert_eq!(rendered.len(), 3);
    assert_eq!(
        (rendered[1].width, rendered[1].height),
        (842, 596),
        "landscape scan"
    );
    app.assert_accepted(&pdf, 2);
    std::fs::write(artifact_dir("documents").join("copy-jpeg.pdf"), &pdf).unwrap();

    let png = png_gray_alpha(300, 400);
    let response = app.post_copy(vec![("page.png", png)], &[]).await;
    let document = app.json_ok(response, 201).await;
    assert_eq!(document["state"], "signed_official");
    let pdf = app.download(&document).await;
    assert_rendered(&pdf, "copy-png", 2);
    app.assert_accepted(&pdf, 1);
}

#[tokio::test]
async fn unsupported_or_broken_scans_are_refused_before_numbering() {
    let app = spawn_app().await;
    let text = app
        .post_copy(vec![("notes.txt", b"hello".to_vec())], &[])
        .await;
    assert_eq!(error_code(text, 415).await, "media_unsupported");
    let mut truncated = jpeg(200, 200, 10);
    truncated.truncate(300);
    let broken = app.post_copy(vec![("scan.jpg", truncated)], &[]).await;
    assert_eq!(error_code(broken, 400).await, "scan_unreadable");
    let broken_png = app
        .post_copy(vec![("scan.png", b"\x89PNG\r\n\x1a\nxxxx".to_vec())], &[])
        .await;
    assert_eq!(error_code(broken_png, 400).await, "scan_unreadable");
    let broken_pdf = app
        .post_copy(vec![("scan.pdf", b"%PDF-1.7\nnothing".to_vec())], &[])
        .await;
    assert_eq!(error_code(broken_pdf, 400).await, "pdf_malformed");
    let mixed = app
        .post_copy(
            vec![
                ("a.pdf", sample_pdf(XrefStyle::Classic)),
                ("b.jpg", jpeg(50, 50, 0)),
            ],
            &[],
        )
        .await;
    assert_eq!(error_code(mixed, 400).await, "bad_request");
    let none = app.post_copy(vec![], &[]).await;
    assert_eq!(error_code(none, 422).await, "validation_failed");
    assert_eq!(document_count(&app), 0);
    let ok = app
        .post_copy(vec![("scan.pdf", sample_pdf(XrefStyle::Classic))], &[])
        .await;
    assert_eq!(app.json_ok(ok, 201).await["number"], 1);
}

#[tokio::test]
async fn fifty_concurrent_copies_get_fifty_consecutive_numbers() {
    let app = spawn_app().await;
    let original = sample_pdf(XrefStyle::Classic);
    let requests = (0..50).map(|_| app.post_copy(vec![("scan.pdf", original.clone())], &[]));
    let responses = futures_util::future::join_all(requests).await;
    let mut numbers = Vec::new();
    for response in responses {
        numbers.push(app.json_ok(response, 201).await["number"].as_i64().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_agency_can_seal_later() {
    let app = spawn_app().await;
    let response = app
        .post_copy(vec![("scan.pdf", sample_pdf(XrefStyle::Hybrid))], &[])
        .await;
    let document = app.json_ok(response, 201).await;
    assert_eq!(document["state"], "signed_official");
    let unsealed = app.download(&document).await;
    app.assert_accepted(&unsealed, 1);
    assert_eq!(
        error_code(app.seal(&document, "wrong".into()).await, 403).await,
        "pin_wrong"
    );
    let sealed = app
        .json_ok(app.seal(&document, app.agency_pin()).await, 200)
        .await;
    assert_eq!(sealed["state"], "sealed");
    assert_eq!(sealed["agency"], "99001-agency");
    let pdf = app.download(&sealed).await;
    assert!(pdf.starts_with(&unsealed));
    app.assert_accepted(&pdf, 2);
    let text = pdftotext(&pdf);
    assert!(text.contains("+07:00"), "{text}");
    assert_eq!(
        error_code(app.seal(&document, app.agency_pin()).await, 409).await,
        "conflict"
    );
}

#[tokio::test]
async fn an_extract_sealed_later_is_sealed_where_one_sealed_at_once_is() {
    let app = spawn_app().await;
    let mut at_once = birth();
    at_once["agency_pin"] = json!(app.agency_pin());
    let at_once = app
        .json_ok(app.post_extract(at_once, None).await, 201)
        .await;
    let later = app
        .json_ok(app.post_extract(birth(), None).await, 201)
        .await;
    assert_eq!(later["state"], "signed_official");
    let sealed = app
        .json_ok(app.seal(&later, app.agency_pin()).await, 200)
        .await;
    let rects = signature_rects(&app.download(&at_once).await);
    assert_eq!(rects.len(), 2, "{rects:?}");
    assert_eq!(rects, signature_rects(&app.download(&sealed).await));
}

/// The page number and `/Rect` of each visible signature widget, in the form's order (a
/// document timestamp's is invisible: an empty rectangle).
fn signature_rects(pdf: &[u8]) -> Vec<(u32, Vec<f32>)> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: std::collections::HashMap<_, _> = doc
        .get_pages()
        .into_iter()
        .map(|(no, id)| (id, no))
        .collect();
    let acroform = doc.catalog().unwrap().get(b"AcroForm").unwrap();
    let (_, acroform) = doc.dereference(acroform).unwrap();
    let fields = acroform.as_dict().unwrap().get(b"Fields").unwrap();
    let (_, fields) = doc.dereference(fields).unwrap();
    fields
        .as_array()
        .unwrap()
        .iter()
        .map(|field| doc.dereference(field).unwrap().1.as_dict().unwrap())
        .filter(|field| field.get(b"FT").and_then(|t| t.as_name()).ok() == Some(b"Sig"))
        .map(|widget| {
            let page = pages[&widget.get(b"P").unwrap().as_reference().unwrap()];
            let rect = widget.get(b"Rect").unwrap().as_array().unwrap();
            (page, rect.iter().map(|v| v.as_float().unwrap()).collect())
        })
        .filter(|(_, rect): &(u32, Vec<f32>)| rect.iter().any(|v| *v != 0.0))
        .collect()
}

#[tokio::test]
async fn documents_are_listed_and_kept_from_other_communes() {
    let app = spawn_app().await;
    app.json_ok(app.post_extract(birth(), None).await, 201)
        .await;
    app.json_ok(
        app.post_copy(vec![("s.pdf", sample_pdf(XrefStyle::Classic))], &[])
            .await,
        201,
    )
    .await;
    let list = |key: String, query: &'static str| {
        app.http
            .get(format!("{}/api/v1/documents{query}", app.address))
            .bearer_auth(key)
            .send()
    };
    let all = app
        .json_ok(list(app.admin_key.clone(), "").await.unwrap(), 200)
        .await;
    assert_eq!(all["documents"].as_array().unwrap().len(), 2);
    let births = app
        .json_ok(
            list(app.admin_key.clone(), "?commune=99001&kind=birth")
                .await
                .unwrap(),
            200,
        )
        .await;
    assert_eq!(births["documents"].as_array().unwrap().len(), 1);
    let later = app
        .json_ok(
            list(app.admin_key.clone(), "?from=2999-01-01")
                .await
                .unwrap(),
            200,
        )
        .await;
    assert_eq!(later["documents"].as_array().unwrap().len(), 0);
    let until = app
        .json_ok(
            list(app.admin_key.clone(), "?from=2020-01-01&to=2999-12-31")
                .await
                .unwrap(),
            200,
        )
        .await;
    assert_eq!(until["documents"].as_array().unwrap().len(), 2);
    let bad = list(app.admin_key.clone(), "?from=yesterday")
        .await
        .unwrap();
    assert_eq!(error_code(bad, 400).await, "bad_request");

    let other = app.api_key(Role::Portal, Some("99002"));
    let theirs = app
        .json_ok(list(other.clone(), "").await.unwrap(), 200)
        .await;
    assert_eq!(theirs["documents"].as_array().unwrap().len(), 0);
    let forbidden = list(other.clone(), "?commune=99001").await.unwrap();
    assert_eq!(error_code(forbidden, 403).await, "forbidden");
    let id = all["documents"][0]["id"].as_str().unwrap();
    let one = app
        .http
        .get(format!("{}/api/v1/documents/{id}", app.address))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(app.json_ok(one, 200).await, all["documents"][0]);
    let hidden = app
        .http
        .get(format!("{}/api/v1/documents/{id}/pdf", app.address))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(hidden, 404).await, "not_found");
    let mut body = birth();
    body["pin"] = json!(app.pki.pin("99001-civil-status"));
    let response = app
        .http
        .post(format!("{}/api/v1/extracts", app.address))
        .bearer_auth(&other)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 403).await, "forbidden");
}

#[tokio::test]
async fn the_database_blob_store_serves_the_same_file() {
    let app = spawn_app_with(|s| s.documents.store = kyso::config::BlobStoreKind::Database).await;
    let document = app
        .json_ok(app.post_extract(birth(), None).await, 201)
        .await;
    let pdf = app.download(&document).await;
    assert_eq!(document["sha256"], hex::encode(openssl::sha::sha256(&pdf)));
    app.assert_accepted(&pdf, 1);
}

#[tokio::test]
async fn the_lookup_page_tells_whether_a_file_is_the_issued_one() {
    let app = spawn_app().await;
    let mut body = birth();
    body["agency_pin"] = json!(app.agency_pin());
    let document = app.json_ok(app.post_extract(body, None).await, 201).await;
    let code = document["lookup_code"].as_str().unwrap();
    assert_eq!(code.len(), 10);
    assert!(document["lookup_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/d/{code}")));
    let page = app
        .http
        .get(format!("{}/d/{code}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Trích lục khai sinh",
        "1/TLKS",
        "UBND PHƯỜNG THÀNH ĐÔNG",
        "Lê Hoàng Cường",
    ] {
        assert!(html.contains(expected), "{expected} missing:\n{html}");
    }
    let pdf = app.download(&document).await;
    let page = &pdftoppm_at(&pdf, 200)[0];
    assert_eq!(
        qr_codes(page),
        vec![document["lookup_url"].as_str().unwrap().to_owned()]
    );
    let check = |bytes: Vec<u8>| {
        app.http
            .post(format!("{}/d/{code}", app.address))
            .multipart(Form::new().part("file", Part::bytes(bytes).file_name("x.pdf")))
            .send()
    };
    let same = check(pdf.clone()).await.unwrap().text().await.unwrap();
    // One combined verdict: the issued file, and its signatures valid.
    assert!(
        same.contains(r#"id="verdict" class="card passed""#)
            && same.contains("Đúng là bản đã cấp, chữ ký số hợp lệ"),
        "{same}"
    );
    assert!(same.contains("2 chữ ký"), "{same}");
    let mut changed = pdf.clone();
    changed.extend_from_slice(b"\n% appended\n");
    let other = check(changed).await.unwrap().text().await.unwrap();
    assert!(
        other.contains(r#"id="verdict" class="card failed""#)
            && other.contains("Không phải bản đã cấp"),
        "{other}"
    );
    let junk = check(b"not a pdf".to_vec()).await.unwrap();
    assert_eq!(junk.status(), 200);
    assert!(junk.text().await.unwrap().contains("Không phải bản đã cấp"));
    let missing = app
        .http
        .get(format!("{}/d/ZZZZZZZZZZ", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The lookup page as a person sees it in Chromium: the record, then one verdict for the file
/// they chose; no serious accessibility violation before or after, nor on an unknown code.
#[tokio::test]
async fn chromium_reads_the_lookup_verdict() {
    use fantoccini::Locator;

    let app = spawn_app().await;
    let mut body = birth();
    body["agency_pin"] = json!(app.agency_pin());
    let document = app.json_ok(app.post_extract(body, None).await, 201).await;
    let pdf = app.download(&document).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issued.pdf");
    std::fs::write(&path, &pdf).unwrap();

    let browser = crate::browser::Browser::start().await;
    let c = &browser.client;
    let code = document["lookup_code"].as_str().unwrap();
    c.goto(&format!("{}/d/{code}", app.address)).await.unwrap();
    // The number printed under the authority, and no second one.
    let facts = browser.text("dl.facts").await;
    assert!(
        facts.contains("1/TLKS") && !facts.contains("Quyển số"),
        "{facts}"
    );
    browser.assert_accessible("lookup page").await;
    browser.upload(&path, "#verdict").await;
    let verdict = browser.text("#verdict .verdict").await;
    assert!(
        verdict.starts_with("Đúng là bản đã cấp, chữ ký số hợp lệ"),
        "{verdict}"
    );
    let class = c
        .find(Locator::Css("#verdict"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap();
    assert_eq!(class.as_deref(), Some("card passed"));
    browser.assert_accessible("lookup verdict").await;
    browser
        .screenshot(&artifact_dir("documents").join("lookup-verdict.png"))
        .await;

    c.goto(&format!("{}/d/ZZZZZZZZZZ", app.address))
        .await
        .unwrap();
    assert_eq!(browser.text("h1").await, "Không tìm thấy văn bản");
    browser.assert_accessible("lookup, unknown code").await;
    browser.quit().await;
}

#[tokio::test]
async fn a_failure_after_signing_records_nothing_and_voids_its_number() {
    // The file store cannot write while its directory is taken by a file: the request fails
    // after numbering, rendering and both signatures, at the last step before the record.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::write(&data_dir, b"in the way").unwrap();
    let data = data_dir.clone();
    let app = spawn_app_with(move |s| s.data_dir = data).await;
    let mut body = birth();
    body["agency_pin"] = json!(app.agency_pin());
    assert_eq!(
        error_code(app.post_extract(body.clone(), None).await, 500).await,
        "internal_error"
    );
    assert_eq!(document_count(&app), 0);
    assert_eq!(
        app.signing_log_count(),
        0,
        "the signatures' log lines are rolled back too"
    );

    std::fs::remove_file(&data_dir).unwrap();
    let document = app.json_ok(app.post_extract(body, None).await, 201).await;
    assert_eq!(
        document["number"], 2,
        "the failed request's number is not reused"
    );
    assert_eq!(app.signing_log_count(), 2);
    // The book stays gap-free: the failed request's number is void there, with the reason.
    let year = document["year"].as_i64().unwrap();
    let book = app
        .json_ok(
            app.http
                .get(format!(
                    "{}/api/v1/numbering-books/99001/birth/{year}",
                    app.address
                ))
                .bearer_auth(&app.admin_key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
    let states: Vec<(i64, &str)> = book["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["number"].as_i64().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(1, "void"), (2, "issued")], "{book}");
    assert!(
        book["entries"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("did not complete"),
        "{book}"
    );
}

/// An unknown father (or mother) leaves the block on the form with its fields blank, as the
/// paper form is left blank, rather than removing it.
#[tokio::test]
async fn a_missing_parent_leaves_the_block_blank() {
    let app = spawn_app().await;
    let mut body = birth();
    body.as_object_mut().unwrap().remove("father");
    let document = app.json_ok(app.post_extract(body, None).await, 201).await;
    let pdf = app.download(&document).await;
    let text = squeeze(&pdftotext(&pdf));
    for expected in [
        "Họ, chữ đệm, tên người mẹ: Trần Thị Hồng Nhung",
        "Họ, chữ đệm, tên người cha: Năm sinh: Dân tộc: Quốc tịch: Nơi cư trú: Nơi đăng ký khai sinh:",
    ] {
        assert!(text.contains(expected), "`{expected}` missing:\n{text}");
    }
    assert_rendered(&pdf, "birth-without-father", 1);
}

#[tokio::test]
async fn death_without_time_or_cause_leaves_them_blank() {
    let app = spawn_app().await;
    let mut body = death();
    body["death"].as_object_mut().unwrap().remove("time");
    body["death"].as_object_mut().unwrap().remove("cause");
    let document = app.json_ok(app.post_extract(body, None).await, 201).await;
    let text = squeeze(&pdftotext(&app.download(&document).await));
    for expected in [
        "Đã chết vào lúc: … giờ … phút, ngày 18/11/2026",
        "Ghi bằng chữ: … giờ … phút, ngày mười tám tháng mười một năm hai nghìn không trăm hai mươi sáu",
        "Nguyên nhân chết: …",
    ] {
        assert!(text.contains(expected), "`{expected}` missing:\n{text}");
    }
}

/// The real binary, killed with SIGKILL while certified-copy requests are in flight, then
/// started again on the same database and data directory.
#[tokio::test]
async fn a_killed_service_leaves_no_half_recorded_document() {
    use std::process::{Command, Stdio};

    let db = crate::helpers::TestDb::new();
    let data = tempfile::tempdir().unwrap();
    let pool = kyso::db::connect(&db.url).unwrap();
    let (_, key) = kyso::clients::create(
        &mut kyso::db::get(&pool).unwrap(),
        Role::Admin,
        None,
        "kill",
    )
    .unwrap();
    let pki = crate::helpers::dev_pki();
    let start = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_kyso"))
            .arg("serve")
            .env("KYSO_BIND", format!("127.0.0.1:{port}"))
            .env("KYSO_DATABASE_URL", &db.url)
            .env("KYSO_DATA_DIR", data.path())
            .env("KYSO_PKI__DEV_DIR", &pki.dir)
            .env("KYSO_PKI__TRUST_DIR", data.path().join("trust"))
            .env("KYSO_PKI__CRL_DIR", data.path().join("crl"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, format!("http://127.0.0.1:{port}"))
    };
    let http = reqwest::Client::new();
    let ready = |address: String| {
        let http = http.clone();
        async move {
            for _ in 0..300 {
                if http.get(format!("{address}/healthz")).send().await.is_ok() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("kyso did not start");
        }
    };
    let copy = |address: String| {
        let form = Form::new()
            .text("commune", "99001")
            .text("signer", "99001-chair")
            .text("pin", pki.pin("99001-chair"))
            .text("agency_pin", pki.pin("99001-agency"))
            .part(
                "file",
                Part::bytes(sample_pdf(XrefStyle::Classic)).file_name("s.pdf"),
            );
        http.post(format!("{address}/api/v1/certified-copies"))
            .bearer_auth(&key)
            .multipart(form)
            .send()
    };

    let (mut child, address) = start();
    ready(address.clone()).await;
    let mut in_flight: futures_util::stream::FuturesUnordered<_> =
        (0..30).map(|_| copy(address.clone())).collect();
    use futures_util::StreamExt;
    let mut acknowledged = Vec::new();
    while let Some(result) = in_flight.next().await {
        if let Ok(response) = result {
            if response.status() == 201 {
                let document: Value = response.json().await.unwrap();
                acknowledged.push(document["id"].as_str().unwrap().to_owned());
                child.kill().unwrap(); // SIGKILL, with requests still in flight
            }
        }
    }
    child.wait().unwrap();
    assert!(!acknowledged.is_empty());

    let (mut child, address) = start();
    ready(address.clone()).await;
    let listed: Value = http
        .get(format!("{address}/api/v1/documents"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documents = listed["documents"].as_array().unwrap();
    // Gap-free: every number taken is a document's, or void (its issuance was cut short).
    let year = kyso::vietnam::vietnam_time(chrono::Utc::now()).format("%Y");
    let book: Value = http
        .get(format!(
            "{address}/api/v1/numbering-books/99001/certified_copy/{year}"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = book["entries"].as_array().unwrap();
    let numbers: Vec<i64> = entries
        .iter()
        .map(|e| e["number"].as_i64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (1..book["next_number"].as_i64().unwrap()).collect::<Vec<_>>(),
        "gap-free: {book}"
    );
    for document in documents {
        assert!(
            entries
                .iter()
                .any(|e| e["number"] == document["number"] && e["state"] == "issued"),
            "{document} not issued in {book}"
        );
    }
    assert!(
        documents.len() < 30,
        "the kill came while requests were in flight"
    );
    for id in &acknowledged {
        assert!(
            documents.iter().any(|d| d["id"] == id.as_str()),
            "acknowledged {id} lost"
        );
    }
    for document in documents {
        let pdf = http
            .get(format!("{address}{}", document["pdf"].as_str().unwrap()))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(document["sha256"], hex::encode(openssl::sha::sha256(&pdf)));
    }
    let next: Value = copy(address.clone()).await.unwrap().json().await.unwrap();
    // The next number after every one taken, void ones included.
    assert_eq!(next["number"], book["next_number"]);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A number's reservation commits without waiting for the disk (the book's lock is not held
/// across an fsync), and only it: the connection goes back to the pool committing durably, as
/// the transaction that records the document must.
#[actix_web::test]
async fn a_reservation_relaxes_its_own_commit_only() {
    use diesel::RunQueryDsl;
    use kyso::db::DbConnection;

    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        synchronous_commit: String,
    }
    // PostgreSQL's setting for the connection's next commit; SQLite has none to relax (its
    // commits in WAL mode with `synchronous = NORMAL` do not sync).
    fn durability(conn: &mut DbConnection) -> Option<String> {
        match conn {
            DbConnection::Postgres(c) => Some(
                diesel::sql_query("SHOW synchronous_commit")
                    .get_result::<Setting>(c)
                    .unwrap()
                    .synchronous_commit,
            ),
            DbConnection::Sqlite(_) => None,
        }
    }

    let app = spawn_app().await;
    let mut conn = kyso::db::get(&app.pool).unwrap();
    let durable = durability(&mut conn);
    let (book, first) =
        kyso::documents::numbering::reserve(&mut conn, "99001", "birth", 2026, |n| n.to_string())
            .unwrap();
    let (_, second) =
        kyso::documents::numbering::reserve(&mut conn, "99001", "birth", 2026, |n| n.to_string())
            .unwrap();
    assert_eq!((book.as_str(), first, second), ("99001/birth/2026", 1, 2));
    assert_eq!(durability(&mut conn), durable);
    if let Some(durable) = durable {
        assert_eq!(
            durable, "on",
            "a commit on the main pool waits for the disk"
        );
        let relaxed = diesel::Connection::transaction(&mut *conn, |c| {
            kyso::db::relax_commit(c)?;
            Ok::<_, kyso::Error>(durability(c))
        })
        .unwrap();
        assert_eq!(relaxed.as_deref(), Some("off"));
        assert_eq!(durability(&mut conn).as_deref(), Some("on"));
    }
}
