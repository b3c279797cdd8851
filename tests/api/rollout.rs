//! Roll-out tracking end to end: a commune from nothing to ready to sign, with real dev-PKI
//! certificates and CRLs, on whichever database the suite runs against.

use chrono::{DateTime, Duration, Utc};
use kyso::clients::Role;
use kyso::pki::dev::{self, Issued, KeyAlgorithm, Profile, SubjectSpec};
use openssl::pkcs12::Pkcs12;
use openssl::x509::X509;
use serde_json::{json, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, DevPki, SignParams, TestApp};
use crate::validators::{artifact_dir, pdftotext, qpdf_check};

/// The dev issuing CA, key included, to mint certificates and CRLs as the CA would.
pub fn dev_ca(pki: &DevPki) -> Issued {
    let m = &pki.manifest;
    let der = std::fs::read(m.path(&pki.dir, &m.issuing_ca_pkcs12)).unwrap();
    let p12 = Pkcs12::from_der(&der)
        .unwrap()
        .parse2(&m.issuing_ca_pin)
        .unwrap();
    Issued {
        cert: p12.cert.unwrap(),
        key: p12.pkey.unwrap(),
    }
}

/// A signing certificate from `ca` for `name` with `uid`, valid from yesterday for `days`.
pub fn mint(ca: &Issued, name: &str, uid: &str, days: i64) -> X509 {
    let now = Utc::now();
    let subject = SubjectSpec {
        common_name: name,
        organization: Some("UBND PHƯỜNG HỒNG BÀNG"),
        locality: Some("Phường Hồng Bàng"),
        uid: Some(uid),
    };
    dev::issue(
        ca,
        &subject,
        Profile::Signer,
        KeyAlgorithm::EcdsaP256,
        now - Duration::days(1),
        now + Duration::days(days),
    )
    .unwrap()
    .cert
}

pub async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.address))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

pub async fn post(app: &TestApp, key: &str, path: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.address))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_bytes(app: &TestApp, key: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.address))
        .bearer_auth(key)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The JSON body of a response that must have `status`.
pub async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn message(response: reqwest::Response, status: u16, code: &str) -> String {
    let body = json_of(response, status).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

async fn transition(app: &TestApp, id: &str, to: &str) -> reqwest::Response {
    let path = format!("/api/v1/issuance-requests/{id}/transitions");
    post(
        app,
        &app.admin_key,
        &path,
        &json!({"to": to, "note": format!("→ {to}")}),
    )
    .await
}

async fn move_to(app: &TestApp, id: &str, states: &[&str]) {
    for to in states {
        json_of(transition(app, id, to).await, 200).await;
    }
}

async fn new_request(app: &TestApp, official: &str, kind: &str) -> Value {
    let body = json!({"official_id": official, "kind": kind, "note": "đề nghị của UBND"});
    json_of(
        post(app, &app.admin_key, "/api/v1/issuance-requests", &body).await,
        201,
    )
    .await
}

async fn upload(app: &TestApp, cert: Vec<u8>) -> reqwest::Response {
    post_bytes(app, &app.admin_key, "/api/v1/certificates", cert).await
}

async fn readiness(app: &TestApp, code: &str, at: Option<DateTime<Utc>>) -> Value {
    let mut path = format!("/api/v1/rollout?commune={code}");
    if let Some(at) = at {
        path += &format!(
            "&at={}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let body = json_of(get(app, &app.admin_key, &path).await, 200).await;
    body["communes"][0].clone()
}

const CSV: &str = "code,name,kind,province\n\
31001,Phường Hồng Bàng,phường,Thành phố Hải Phòng\n\
31002,Xã Thủy Nguyên,xã,Thành phố Hải Phòng\n";

#[tokio::test]
async fn a_commune_goes_from_nothing_to_ready() {
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    let ca = dev_ca(app.pki);

    // Import: a bad row refuses the whole file, naming its line; nothing is written.
    let bad = format!(
        "{CSV}31003,Xã Bạch Long Vĩ,huyện,Thành phố Hải Phòng\n3100x,Xã Sai,xã,Hải Phòng\n"
    );
    let text = message(
        post_bytes(&app, &admin, "/api/v1/communes/import", bad.into_bytes()).await,
        422,
        "csv_invalid",
    )
    .await;
    assert!(
        text.contains("line 4: kind must be xã, phường or đặc khu, not `huyện`"),
        "{text}"
    );
    assert!(text.contains("line 5: code must be 5 digits"), "{text}");
    let communes = json_of(get(&app, &admin, "/api/v1/communes").await, 200).await;
    assert_eq!(
        communes.as_array().unwrap().len(),
        3,
        "only the demo communes: {communes}"
    );

    // Good file, twice (idempotent), then an update.
    let first = json_of(
        post_bytes(&app, &admin, "/api/v1/communes/import", CSV.into()).await,
        200,
    )
    .await;
    assert_eq!(first, json!({"created": 2, "updated": 0, "unchanged": 0}));
    let again = json_of(
        post_bytes(&app, &admin, "/api/v1/communes/import", CSV.into()).await,
        200,
    )
    .await;
    assert_eq!(again, json!({"created": 0, "updated": 0, "unchanged": 2}));
    let renamed = CSV
        .replace("Xã Thủy Nguyên", "Phường Thủy Nguyên")
        .replace(",xã,", ",phường,");
    let update = json_of(
        post_bytes(&app, &admin, "/api/v1/communes/import", renamed.into()).await,
        200,
    )
    .await;
    assert_eq!(update, json!({"created": 0, "updated": 1, "unchanged": 1}));
    let detail = json_of(get(&app, &admin, "/api/v1/communes/31002").await, 200).await;
    assert_eq!(detail["commune"]["name"], "Phường Thủy Nguyên");
    let viewer = app.api_key(Role::Viewer, None);
    let code = error_code(
        post_bytes(&app, &viewer, "/api/v1/communes/import", CSV.into()).await,
        403,
    )
    .await;
    assert_eq!(code, "forbidden");

    let start = readiness(&app, "31001", None).await;
    assert_eq!(start["ready"], false);
    assert_eq!(start["officials_required"], 0);

    // Officials and the agency, with the checks on identifiers.
    let people = [
        ("Trần Văn Hải", "031080000001", "chair"),
        ("Nguyễn Thị Thu Hằng", "031180000002", "vice_chair"),
        ("Phạm Đức Thắng", "031080000003", "civil_status"),
    ];
    let mut ids = Vec::new();
    for (name, personal_id, position) in people {
        let body = json!({"commune_code": "31001", "kind": "person", "name": name,
                          "personal_id": personal_id, "position": position});
        let official = json_of(post(&app, &admin, "/api/v1/officials", &body).await, 201).await;
        assert_eq!(official["name"], name);
        ids.push(official["id"].as_str().unwrap().to_owned());
    }
    let agency_body = json!({"commune_code": "31001", "kind": "agency", "name": "UBND Phường Hồng Bàng",
                             "tax_code": "0312345678", "position": "agency"});
    let agency = json_of(
        post(&app, &admin, "/api/v1/officials", &agency_body).await,
        201,
    )
    .await;
    let agency_id = agency["id"].as_str().unwrap().to_owned();
    let (chair, vice, civil) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    for (body, status, code) in [
        (
            json!({"commune_code": "31001", "kind": "person", "name": "A", "personal_id": "03108000000", "position": "chair"}),
            400,
            "bad_request",
        ),
        (
            json!({"commune_code": "31001", "kind": "person", "name": "B", "personal_id": "031080000001", "position": "other"}),
            409,
            "conflict",
        ),
        (
            json!({"commune_code": "31001", "kind": "agency", "name": "C", "tax_code": "12", "position": "agency"}),
            400,
            "bad_request",
        ),
        (
            json!({"commune_code": "39999", "kind": "person", "name": "D", "personal_id": "031080000009", "position": "chair"}),
            404,
            "not_found",
        ),
        (
            json!({"commune_code": "31001", "kind": "person", "name": "E", "personal_id": "031080000009", "position": "mayor"}),
            400,
            "bad_request",
        ),
    ] {
        assert_eq!(
            error_code(post(&app, &admin, "/api/v1/officials", &body).await, status).await,
            code,
            "{body}"
        );
    }
    let waiting = readiness(&app, "31001", None).await;
    assert_eq!(
        (
            waiting["officials_required"].as_u64(),
            waiting["officials_covered"].as_u64()
        ),
        (Some(4), Some(0))
    );
    assert_eq!(waiting["waiting"].as_array().unwrap().len(), 4);

    // The chair: drafted → submitted → received, an impossible jump refused on the way.
    let request = new_request(&app, &chair, "new").await;
    assert_eq!(
        (request["state"].as_str(), request["form"].as_str()),
        (Some("drafted"), Some("01"))
    );
    let chair_request = request["id"].as_str().unwrap().to_owned();
    let text = message(
        transition(&app, &chair_request, "issued").await,
        409,
        "transition_not_allowed",
    )
    .await;
    assert!(text.contains("allowed: submitted, cancelled"), "{text}");
    move_to(&app, &chair_request, &["submitted", "received"]).await;

    // The pre-filled form, read back by pdftotext.
    let response = get(
        &app,
        &admin,
        &format!("/api/v1/issuance-requests/{chair_request}/form.pdf"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let pdf = response.bytes().await.unwrap().to_vec();
    let _ = std::fs::write(artifact_dir("rollout").join("mau-01.pdf"), &pdf);
    qpdf_check(&pdf).unwrap();
    let text = pdftotext(&pdf);
    for expected in [
        "Mẫu 01",
        "UBND PHƯỜNG HỒNG BÀNG",
        "GIẤY ĐỀ NGHỊ CẤP CHỨNG THƯ CHỮ KÝ SỐ",
        "Họ và tên: Trần Văn Hải",
        "Số định danh cá nhân: 031080000001",
        "Chức vụ: Chủ tịch UBND",
        "Độc lập - Tự do - Hạnh phúc",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    // Its certificate (PEM) finds the chair by CCCD and closes the request.
    let chair_cert = mint(&ca, "Trần Văn Hải", "CCCD:031080000001", 5 * 365);
    let registered = json_of(upload(&app, chair_cert.to_pem().unwrap()).await, 201).await;
    assert_eq!(registered["holder"]["id"], chair.as_str());
    assert_eq!(registered["request"]["state"], "issued");
    let chair_cert_id = registered["certificate"]["id"].as_str().unwrap().to_owned();
    assert!(registered["certificate"]["key_usage"]
        .as_str()
        .unwrap()
        .contains("Digital Signature"));
    assert_eq!(registered["certificate"]["uids"], "CCCD:031080000001");
    let history = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/issuance-requests/{chair_request}"),
        )
        .await,
        200,
    )
    .await;
    let states: Vec<_> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["drafted", "submitted", "received", "issued"]);
    assert_eq!(history["request"]["certificate_id"], chair_cert_id.as_str());
    // The same certificate twice, garbage, and a stranger are refused.
    assert_eq!(
        error_code(upload(&app, chair_cert.to_der().unwrap()).await, 409).await,
        "conflict"
    );
    assert_eq!(
        error_code(
            upload(
                &app,
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()
            )
            .await,
            400
        )
        .await,
        "certificate_malformed"
    );
    assert_eq!(
        error_code(upload(&app, b"not a certificate".to_vec()).await, 400).await,
        "certificate_malformed"
    );
    let stranger = mint(&ca, "Người Lạ", "CCCD:031080000099", 30);
    assert_eq!(
        error_code(upload(&app, stranger.to_pem().unwrap()).await, 422).await,
        "certificate_holder_unknown"
    );
    let path = format!("/api/v1/certificates?holder={vice}");
    assert_eq!(
        error_code(
            post_bytes(&app, &admin, &path, stranger.to_pem().unwrap()).await,
            422
        )
        .await,
        "certificate_holder_unknown"
    );

    // The vice-chair: rejected once (final), then a second request issued.
    let first = new_request(&app, &vice, "new").await;
    let first_id = first["id"].as_str().unwrap();
    move_to(&app, first_id, &["submitted", "rejected"]).await;
    let text = message(
        transition(&app, first_id, "submitted").await,
        409,
        "transition_not_allowed",
    )
    .await;
    assert!(text.contains("none, `rejected` is final"), "{text}");
    let second = new_request(&app, &vice, "new").await;
    move_to(&app, second["id"].as_str().unwrap(), &["submitted"]).await;
    let vice_cert = mint(&ca, "Nguyễn Thị Thu Hằng", "CCCD:031180000002", 5 * 365);
    let registered = json_of(upload(&app, vice_cert.to_der().unwrap()).await, 201).await;
    assert_eq!(registered["request"]["state"], "issued");
    let vice_cert_id = registered["certificate"]["id"].as_str().unwrap().to_owned();

    // The civil-status officer: one cancelled, one issued (certificate named explicitly).
    let cancelled = new_request(&app, &civil, "new").await;
    move_to(&app, cancelled["id"].as_str().unwrap(), &["cancelled"]).await;
    let issued = new_request(&app, &civil, "new").await;
    move_to(
        &app,
        issued["id"].as_str().unwrap(),
        &["submitted", "received"],
    )
    .await;
    let civil_cert = mint(&ca, "Phạm Đức Thắng", "CCCD:031080000003", 5 * 365);
    let path = format!("/api/v1/certificates?holder={civil}");
    json_of(
        post_bytes(&app, &admin, &path, civil_cert.to_pem().unwrap()).await,
        201,
    )
    .await;

    // The agency (Mẫu 02), with a certificate that ends in 45 days.
    let agency_request = new_request(&app, &agency_id, "new").await;
    assert_eq!(agency_request["form"], "02");
    let form = get(
        &app,
        &admin,
        &format!(
            "/api/v1/issuance-requests/{}/form.pdf",
            agency_request["id"].as_str().unwrap()
        ),
    )
    .await;
    let text = pdftotext(&form.bytes().await.unwrap());
    assert!(
        text.contains("Mẫu 02") && text.contains("Mã số thuế: 0312345678"),
        "{text}"
    );
    move_to(
        &app,
        agency_request["id"].as_str().unwrap(),
        &["submitted", "received"],
    )
    .await;
    let agency_cert = mint(&ca, "UBND PHƯỜNG HỒNG BÀNG", "MST:0312345678", 45);
    json_of(upload(&app, agency_cert.to_der().unwrap()).await, 201).await;

    // Ready.
    let now = Utc::now();
    let ready = readiness(&app, "31001", None).await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["agency_certificate_valid"], true);
    assert_eq!(
        (
            ready["officials_required"].as_u64(),
            ready["officials_covered"].as_u64()
        ),
        (Some(4), Some(4))
    );
    assert_eq!(ready["pending_requests"], 0);
    assert_eq!(
        ready["expiring"],
        json!([{"within_days": 30, "certificates": 0}, {"within_days": 60, "certificates": 1}])
    );
    // Looking ahead: in 20 days the agency certificate is within 30 days; after 50 it is gone.
    let soon = readiness(&app, "31001", Some(now + Duration::days(20))).await;
    assert_eq!(soon["expiring"][0]["certificates"], 1);
    let later = readiness(&app, "31001", Some(now + Duration::days(50))).await;
    assert_eq!(
        (
            later["ready"].as_bool(),
            later["agency_certificate_valid"].as_bool()
        ),
        (Some(false), Some(false))
    );
    // Only an admin may move the clock.
    let code = error_code(
        get(&app, &viewer, "/api/v1/rollout?at=2030-01-01T00:00:00Z").await,
        403,
    )
    .await;
    assert_eq!(code, "forbidden");
    assert_eq!(
        error_code(get(&app, &admin, "/api/v1/rollout?at=tomorrow").await, 400).await,
        "bad_request"
    );

    // Renewal: the chair's new certificate replaces the old one.
    let renewal = new_request(&app, &chair, "renewal").await;
    move_to(&app, renewal["id"].as_str().unwrap(), &["submitted"]).await;
    let renewed = mint(&ca, "Trần Văn Hải", "CCCD:031080000001", 3 * 365);
    let registered = json_of(upload(&app, renewed.to_pem().unwrap()).await, 201).await;
    assert_eq!(
        registered["certificate"]["replaces_certificate_id"],
        chair_cert_id.as_str()
    );

    // Overdue: a change-of-information request sent now is late after 3 working days.
    let change = new_request(&app, &civil, "change_info").await;
    move_to(&app, change["id"].as_str().unwrap(), &["submitted"]).await;
    let today = readiness(&app, "31001", None).await;
    assert_eq!(
        (
            today["pending_requests"].as_u64(),
            today["overdue_requests"].as_u64()
        ),
        (Some(1), Some(0))
    );
    // (A fresh `now`: the request is younger than the one taken above.)
    let week = readiness(&app, "31001", Some(Utc::now() + Duration::days(7))).await;
    assert_eq!(
        (
            week["overdue_requests"].as_u64(),
            week["oldest_pending_days"].as_i64()
        ),
        (Some(1), Some(7))
    );

    // The CA revokes the vice-chair's certificate; its CRL (PEM) says so.
    let crl = dev::build_crl(
        &ca,
        &[(&vice_cert, now - Duration::hours(2))],
        now,
        now + Duration::days(7),
    )
    .unwrap();
    let crl_pem = openssl::x509::X509Crl::from_der(&crl)
        .unwrap()
        .to_pem()
        .unwrap();
    let report = json_of(post_bytes(&app, &admin, "/api/v1/crls", crl_pem).await, 200).await;
    assert_eq!(report["revoked"], json!([vice_cert_id]));
    let revoked = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/certificates/{vice_cert_id}"),
        )
        .await,
        200,
    )
    .await;
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let after = readiness(&app, "31001", None).await;
    assert_eq!(after["ready"], false);
    assert_eq!(after["waiting"][0]["official_id"], vice.as_str());
    // Applying it again changes nothing; a forged or broken list is refused.
    let again = json_of(post_bytes(&app, &admin, "/api/v1/crls", crl).await, 200).await;
    assert_eq!(again["revoked"], json!([]));
    let rogue = dev::new_root("kyso DEV ONLY Issuing CA", KeyAlgorithm::EcdsaP256).unwrap();
    let forged =
        dev::build_crl(&rogue, &[(&chair_cert, now)], now, now + Duration::days(7)).unwrap();
    assert_eq!(
        error_code(post_bytes(&app, &admin, "/api/v1/crls", forged).await, 422).await,
        "crl_untrusted"
    );
    assert_eq!(
        error_code(
            post_bytes(&app, &admin, "/api/v1/crls", b"junk".to_vec()).await,
            400
        )
        .await,
        "crl_malformed"
    );
    assert_eq!(
        error_code(
            post_bytes(&app, &viewer, "/api/v1/crls", b"junk".to_vec()).await,
            403
        )
        .await,
        "forbidden"
    );

    // The audit log has every change with before and after.
    let log = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/audit?entity=certificate&entity_id={vice_cert_id}"),
        )
        .await,
        200,
    )
    .await;
    let actions: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"certificate.revoke") && actions.contains(&"certificate.create"),
        "{log}"
    );
    let revoke = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "certificate.revoke")
        .unwrap();
    let before: Value = serde_json::from_str(revoke["before_json"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(revoke["after_json"].as_str().unwrap()).unwrap();
    assert!(before["revoked_at"].is_null() && after["revoked_at"].is_string());
    let transitions = json_of(
        get(&app, &admin, "/api/v1/audit?entity=request&limit=1000").await,
        200,
    )
    .await;
    assert!(transitions.as_array().unwrap().len() >= 20, "{transitions}");
    assert_eq!(
        error_code(get(&app, &viewer, "/api/v1/audit").await, 403).await,
        "forbidden"
    );

    // The CSV export has the commune's row.
    let csv = get(&app, &viewer, "/api/v1/rollout.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("code,name,kind,ready,agency_certificate_valid,officials_required"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("31001,Phường Hồng Bàng,phường,false,true,4,3,1,")),
        "{csv}"
    );

    // The civil-status officer leaves: a revocation request carried out revokes the holder.
    let revocation = new_request(&app, &civil, "revocation").await;
    let id = revocation["id"].as_str().unwrap();
    let form = get(
        &app,
        &admin,
        &format!("/api/v1/issuance-requests/{id}/form.pdf"),
    )
    .await;
    let text = pdftotext(&form.bytes().await.unwrap());
    assert!(
        text.contains("GIẤY ĐỀ NGHỊ THU HỒI CHỨNG THƯ CHỮ KÝ SỐ"),
        "{text}"
    );
    move_to(&app, id, &["submitted", "received", "issued"]).await;
    let held = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/certificates?official={civil}"),
        )
        .await,
        200,
    )
    .await;
    let reason = format!("revocation request {id}");
    assert_eq!(held[0]["revocation_reason"], reason.as_str(), "{held}");
    let left = readiness(&app, "31001", None).await;
    assert_eq!(left["officials_covered"], 2);
    // Looking back to before both revocations, the commune was ready.
    let before = readiness(&app, "31001", Some(now - Duration::hours(3))).await;
    assert_eq!(before["ready"], true, "{before}");
}

#[tokio::test]
async fn portal_keys_see_and_change_only_their_commune() {
    let app = spawn_app().await;
    let portal = app.api_key(Role::Portal, Some("99001"));
    let viewer = app.api_key(Role::Viewer, None);

    let own = json_of(get(&app, &portal, "/api/v1/rollout").await, 200).await;
    let codes: Vec<_> = own["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["99001"]);
    assert_eq!(
        error_code(
            get(&app, &portal, "/api/v1/rollout?commune=99002").await,
            403
        )
        .await,
        "forbidden"
    );
    // Another commune's official is answered like an unknown one.
    assert_eq!(
        error_code(
            get(&app, &portal, "/api/v1/officials/99002-chair").await,
            404
        )
        .await,
        "not_found"
    );
    let everyone = json_of(get(&app, &viewer, "/api/v1/rollout").await, 200).await;
    assert_eq!(everyone["communes"].as_array().unwrap().len(), 3);
    assert_eq!(
        error_code(get(&app, "nonsense", "/api/v1/rollout").await, 401).await,
        "unauthorized"
    );

    let body = json!({"official_id": "99001-expired", "kind": "renewal"});
    json_of(
        post(&app, &portal, "/api/v1/issuance-requests", &body).await,
        201,
    )
    .await;
    let body = json!({"official_id": "99002-chair", "kind": "renewal"});
    assert_eq!(
        error_code(
            post(&app, &portal, "/api/v1/issuance-requests", &body).await,
            404
        )
        .await,
        "not_found"
    );
    assert_eq!(
        error_code(
            post(&app, &viewer, "/api/v1/issuance-requests", &body).await,
            403
        )
        .await,
        "forbidden"
    );

    let patch = |key: String, id: &'static str| {
        let app = &app;
        async move {
            app.http
                .patch(format!("{}/api/v1/officials/{id}", app.address))
                .bearer_auth(key)
                .json(&json!({"active": false}))
                .send()
                .await
                .unwrap()
        }
    };
    let changed = json_of(patch(portal.clone(), "99001-expired").await, 200).await;
    assert_eq!(changed["active"], false);
    assert_eq!(
        error_code(patch(portal.clone(), "99002-vice-chair").await, 404).await,
        "not_found"
    );
    assert_eq!(
        error_code(patch(viewer.clone(), "99001-chair").await, 403).await,
        "forbidden"
    );
    // A certificate of another commune's official: answered as if nobody held its id.
    let other = json_of(
        get(&app, &app.admin_key, "/api/v1/officials/99002-chair").await,
        200,
    )
    .await;
    let uid = format!(
        "CCCD:{}",
        other["official"]["personal_id"].as_str().unwrap()
    );
    let cert = mint(&dev_ca(app.pki), "Đặng Quốc Hùng", &uid, 365);
    let response = post_bytes(
        &app,
        &portal,
        "/api/v1/certificates",
        cert.to_pem().unwrap(),
    )
    .await;
    assert_eq!(
        error_code(response, 422).await,
        "certificate_holder_unknown"
    );
    let response = post_bytes(
        &app,
        &viewer,
        "/api/v1/certificates",
        cert.to_pem().unwrap(),
    )
    .await;
    assert_eq!(error_code(response, 403).await, "forbidden");
    let log = json_of(
        get(
            &app,
            &app.admin_key,
            "/api/v1/audit?entity=official&entity_id=99001-expired",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(log[0]["action"], "official.update");
    assert!(log[0]["actor"].is_string() && log[0]["actor"] != "kyso dev-pki");
}

#[tokio::test]
async fn signing_needs_a_registered_unrevoked_certificate() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let dev = json_of(get(&app, &app.admin_key, "/api/v1/rollout").await, 200).await;
    assert_eq!(
        dev["totals"]["ready"], 3,
        "the demo communes are ready: {dev}"
    );

    // A registered, valid certificate signs, and the signature counts for readiness.
    app.signed(
        &pdf,
        SignParams {
            signer: "99002-chair",
            ..Default::default()
        },
    )
    .await;
    let after = readiness(&app, "99002", None).await;
    assert_eq!(after["signatures"], 1);

    // Revoked in the registry by an imported CRL: refused before any PIN is tried.
    let ca = dev_ca(app.pki);
    let pem = std::fs::read(
        app.pki
            .manifest
            .path(&app.pki.dir, &app.pki.signer("99002-chair").certificate),
    )
    .unwrap();
    let cert = X509::from_pem(&pem).unwrap();
    let now = Utc::now();
    let crl = dev::build_crl(&ca, &[(&cert, now)], now, now + Duration::days(1)).unwrap();
    json_of(
        post_bytes(&app, &app.admin_key, "/api/v1/crls", crl).await,
        200,
    )
    .await;
    let response = app
        .sign(
            &pdf,
            SignParams {
                signer: "99002-chair",
                pin: Some("000000".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(error_code(response, 422).await, "certificate_revoked");

    // Not registered at all: refused with its own code.
    {
        use diesel::prelude::*;
        use kyso::db::schema::certificates;
        let mut conn = kyso::db::get(&app.pool).unwrap();
        diesel::delete(certificates::table.filter(certificates::official_id.eq("99003-chair")))
            .execute(&mut *conn)
            .unwrap();
    }
    let response = app
        .sign(
            &pdf,
            SignParams {
                signer: "99003-chair",
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        error_code(response, 422).await,
        "certificate_not_registered"
    );
    // The expired demo certificate keeps the foundation's answer.
    let response = app
        .sign(
            &pdf,
            SignParams {
                signer: "99001-expired",
                ..Default::default()
            },
        )
        .await;
    assert_eq!(error_code(response, 422).await, "certificate_not_valid");
    assert_eq!(app.signing_log_count(), 1);
}
