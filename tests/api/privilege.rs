//! Least privilege (issue 9): what each role reads and changes, which certificates count, how
//! PIN guesses are counted, keys that expire or are revoked, the dashboard's session cookie,
//! cross-origin forms, security headers, CSV cells, file modes and the time-stamping authority.

use chrono::{Duration, Utc};
use kyso::clients::{self, Role};
use openssl::asn1::Asn1Time;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::{X509NameBuilder, X509};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, spawn_app_with, SignParams, TestApp};
use crate::rollout::{dev_ca, get, json_of, mint, post, post_bytes};

/// A certificate signed by its own key, with `uid` in its subject: anyone can make one.
fn self_signed(name: &str, uid: &str) -> X509 {
    let key = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let mut subject = X509NameBuilder::new().unwrap();
    subject.append_entry_by_text("CN", name).unwrap();
    subject.append_entry_by_nid(Nid::USERID, uid).unwrap();
    let subject = subject.build();
    let mut cert = X509::builder().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&subject).unwrap();
    cert.set_issuer_name(&subject).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    cert.build()
}

/// The body of an admin's GET of `path`.
async fn admin_text(app: &TestApp, path: &str) -> String {
    get(app, &app.admin_key, path).await.text().await.unwrap()
}

/// `POST /api/v1/certificates` (`path` may add `?holder=`) with `cert` as PEM.
async fn upload(app: &TestApp, key: &str, path: &str, cert: &X509) -> reqwest::Response {
    post_bytes(app, key, path, cert.to_pem().unwrap()).await
}

async fn readiness(app: &TestApp, code: &str) -> Value {
    let path = format!("/api/v1/rollout?commune={code}");
    let report = json_of(get(app, &app.admin_key, &path).await, 200).await;
    report["communes"][0].clone()
}

#[tokio::test]
async fn a_viewer_reads_statistics_and_nothing_personal() {
    let app = spawn_app().await;
    let viewer = app.api_key(Role::Viewer, None);
    for path in [
        "/api/v1/documents",
        "/api/v1/documents/any-id",
        "/api/v1/documents/any-id/pdf",
        "/api/v1/officials",
        "/api/v1/officials/99001-chair",
        "/api/v1/certificates",
        "/api/v1/issuance-requests",
    ] {
        let code = error_code(get(&app, &viewer, path).await, 403).await;
        assert_eq!(code, "forbidden", "{path}");
    }
    // A commune with someone waiting: the viewer sees the count, not the name.
    let body = json!({"commune_code": "99002", "kind": "person", "name": "Lý Thị Ngân",
                      "personal_id": "099180000123", "position": "civil_status"});
    json_of(
        post(&app, &app.admin_key, "/api/v1/officials", &body).await,
        201,
    )
    .await;
    let stats = json_of(get(&app, &viewer, "/api/v1/rollout").await, 200).await;
    let text = stats.to_string();
    assert!(!text.contains("Lý Thị Ngân"), "{text}");
    let commune = stats["communes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "99002")
        .unwrap();
    assert_eq!(commune["officials_required"], 5);
    assert_eq!(commune["officials_covered"], 4);
    let detail = json_of(get(&app, &viewer, "/api/v1/communes/99002").await, 200).await;
    assert!(detail.get("officials").is_none(), "{detail}");
    assert!(!detail.to_string().contains("Lý Thị Ngân"));
    // The admin still sees who waits.
    assert!(readiness(&app, "99002")
        .await
        .to_string()
        .contains("Lý Thị Ngân"));
}

#[tokio::test]
async fn only_an_admin_moves_a_request_into_the_ca_states() {
    let app = spawn_app().await;
    let portal = app.api_key(Role::Portal, Some("99001"));
    let body = json!({"official_id": "99001-chair", "kind": "renewal"});
    let request = json_of(
        post(&app, &portal, "/api/v1/issuance-requests", &body).await,
        201,
    )
    .await;
    let path = format!(
        "/api/v1/issuance-requests/{}/transitions",
        request["id"].as_str().unwrap()
    );
    let to = |state: &str| json!({"to": state});
    json_of(post(&app, &portal, &path, &to("submitted")).await, 200).await;
    for state in ["received", "issued", "rejected"] {
        let response = post(&app, &portal, &path, &to(state)).await;
        assert_eq!(error_code(response, 403).await, "forbidden", "{state}");
    }
    json_of(
        post(&app, &app.admin_key, &path, &to("received")).await,
        200,
    )
    .await;
    let response = post(&app, &portal, &path, &to("issued")).await;
    assert_eq!(error_code(response, 403).await, "forbidden");
    let issued = json_of(post(&app, &app.admin_key, &path, &to("issued")).await, 200).await;
    assert_eq!(issued["state"], "issued");
}

#[tokio::test]
async fn an_uploaded_certificate_counts_only_if_trusted_and_naming_its_holder() {
    let app = spawn_app().await;
    let portal = app.api_key(Role::Portal, Some("99001"));
    let body = json!({"commune_code": "99001", "kind": "person", "name": "Hoàng Văn Nam",
                      "personal_id": "099080000777", "position": "civil_status"});
    let official = json_of(post(&app, &portal, "/api/v1/officials", &body).await, 201).await;
    let id = official["id"].as_str().unwrap().to_owned();
    let before = readiness(&app, "99001").await;
    let covered = before["officials_covered"].as_u64().unwrap();
    assert_eq!(before["officials_required"].as_u64().unwrap(), covered + 1);
    assert!(before["waiting"].to_string().contains(&id), "{before}");

    // Self-signed, carrying the official's CCCD: registered, but it proves nothing.
    let forged = self_signed("Hoàng Văn Nam", "CCCD:099080000777");
    let response = upload(&app, &portal, "/api/v1/certificates", &forged).await;
    let registered = json_of(response, 201).await;
    assert_eq!(registered["certificate"]["trusted"], false);
    let after = readiness(&app, "99001").await;
    assert_eq!(after["officials_covered"].as_u64().unwrap(), covered);
    assert!(after["waiting"].to_string().contains(&id), "{after}");

    // From the trusted CA but without the holder's UID, named explicitly: still not counted.
    let ca = dev_ca(app.pki);
    let anonymous = mint(&ca, "Hoàng Văn Nam", "CCCD:099080000999", 365);
    let response = upload(
        &app,
        &portal,
        &format!("/api/v1/certificates?holder={id}"),
        &anonymous,
    )
    .await;
    assert_eq!(
        error_code(response, 422).await,
        "certificate_holder_unknown"
    );

    // The CA's certificate naming the holder counts.
    let genuine = mint(&ca, "Hoàng Văn Nam", "CCCD:099080000777", 365);
    let response = upload(&app, &portal, "/api/v1/certificates", &genuine).await;
    assert_eq!(json_of(response, 201).await["certificate"]["trusted"], true);
    let ready = readiness(&app, "99001").await;
    assert_eq!(ready["officials_covered"].as_u64().unwrap(), covered + 1);
    assert!(!ready["waiting"].to_string().contains(&id), "{ready}");
}

#[tokio::test]
async fn a_certificate_counts_once_its_ca_is_trusted() {
    let app = spawn_app().await;
    let body = json!({"commune_code": "99003", "kind": "person", "name": "Vũ Thị Lan",
                      "personal_id": "099180000888", "position": "vice_chair"});
    json_of(
        post(&app, &app.admin_key, "/api/v1/officials", &body).await,
        201,
    )
    .await;
    let covered = readiness(&app, "99003").await["officials_covered"]
        .as_u64()
        .unwrap();
    // A CA this instance does not trust (yet).
    let new_ca =
        kyso::pki::dev::new_root("CA mới", kyso::pki::dev::KeyAlgorithm::EcdsaP256).unwrap();
    let cert = mint(&new_ca, "Vũ Thị Lan", "CCCD:099180000888", 365);
    let response = upload(&app, &app.admin_key, "/api/v1/certificates", &cert).await;
    assert_eq!(
        json_of(response, 201).await["certificate"]["trusted"],
        false
    );
    let still = readiness(&app, "99003").await;
    assert_eq!(still["officials_covered"].as_u64().unwrap(), covered);

    // The administrator adds the CA to the trust folder; at the next start it counts.
    let trust = app.data_dir().join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::write(trust.join("new-ca.pem"), new_ca.cert.to_pem().unwrap()).unwrap();
    let mut settings = kyso::config::Settings {
        database_url: app.database_url.clone(),
        data_dir: app.data_dir(),
        ..kyso::config::Settings::default()
    };
    settings.pki.dev_dir = app.pki.dir.clone();
    settings.pki.trust_dir = trust;
    settings.pki.crl_dir = app.data_dir().join("crl");
    tokio::task::spawn_blocking(move || kyso::app::prepare(settings).map(drop))
        .await
        .unwrap()
        .unwrap();
    let now = readiness(&app, "99003").await;
    assert_eq!(now["officials_covered"].as_u64().unwrap(), covered + 1);
}

/// The error of `response`, with `asked` (what the client named) replaced, so two answers
/// can be compared word for word.
async fn answer(response: reqwest::Response, asked: &str) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].to_string().replace(asked, "…"))
}

#[tokio::test]
async fn another_communes_officials_are_answered_like_unknown_ones() {
    let app = spawn_app().await;
    let portal = app.api_key(Role::Portal, Some("99001"));
    let other = json_of(
        get(&app, &app.admin_key, "/api/v1/officials/99002-chair").await,
        200,
    )
    .await;
    let personal_id = other["official"]["personal_id"]
        .as_str()
        .unwrap()
        .to_owned();

    for path in ["/api/v1/officials/", "/api/v1/certificates?official="] {
        let theirs = answer(
            get(&app, &portal, &format!("{path}99002-chair")).await,
            "99002-chair",
        )
        .await;
        let nobody = answer(
            get(&app, &portal, &format!("{path}no-such-id")).await,
            "no-such-id",
        )
        .await;
        assert_eq!(theirs, nobody, "{path}");
        assert_eq!(theirs.0, 404);
    }

    // A certificate carrying their official's CCCD, and one carrying nobody's.
    let ca = dev_ca(app.pki);
    let unknown_id = "099080000555";
    let mut answers = Vec::new();
    for id in [personal_id.as_str(), unknown_id] {
        let cert = mint(&ca, "Đặng Quốc Hùng", &format!("CCCD:{id}"), 365);
        let response = upload(&app, &portal, "/api/v1/certificates", &cert).await;
        answers.push(answer(response, id).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 422);
    assert!(!answers[0].1.contains("99002"), "{answers:?}");

    // Signing with their signer, or one that does not exist.
    let pdf = sample_pdf(XrefStyle::Classic);
    let mut answers = Vec::new();
    for signer in ["99002-chair", "99009-nobody"] {
        let response = app
            .sign_as(
                &portal,
                &pdf,
                SignParams {
                    signer,
                    pin: Some("000000".into()),
                    ..Default::default()
                },
            )
            .await;
        answers.push(answer(response, signer).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 404);

    // Registering their official's CCCD here: refused without naming who holds it.
    let body = json!({"commune_code": "99001", "kind": "person", "name": "X",
                      "personal_id": personal_id, "position": "other"});
    let response = post(&app, &portal, "/api/v1/officials", &body).await;
    let (status, error) = answer(response, &personal_id).await;
    assert_eq!(status, 409);
    assert!(!error.contains("99002"), "{error}");
}

/// Signs with `signer` and `pin`, answering the status and error code (or "signed").
async fn try_pin(app: &TestApp, pdf: &[u8], signer: &str, pin: &str) -> (u16, String) {
    let response = app
        .sign(
            pdf,
            SignParams {
                signer,
                pin: Some(pin.to_owned()),
                ..Default::default()
            },
        )
        .await;
    let status = response.status().as_u16();
    if status == 200 {
        return (status, "signed".into());
    }
    let body: Value = response.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn concurrent_wrong_pins_are_tried_exactly_up_to_the_lock() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let max = kyso::config::Settings::default().keys.max_failed_pins;
    let attempts = (0..60).map(|i| {
        let (app, pdf) = (&app, &pdf);
        async move { try_pin(app, pdf, "99001-chair", &format!("wrong-{i}")).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let wrong = answers.iter().filter(|a| a.1 == "pin_wrong").count();
    let locked = answers.iter().filter(|a| a.1 == "key_locked").count();
    assert_eq!(
        wrong,
        usize::try_from(max).unwrap(),
        "exactly the threshold tried: {answers:?}"
    );
    assert_eq!(wrong + locked, 60, "{answers:?}");
    // Locked: the right PIN is not even tried now.
    let right = app.pki.pin("99001-chair");
    assert_eq!(
        try_pin(&app, &pdf, "99001-chair", &right).await,
        (423, "key_locked".into())
    );
}

/// The PIN attempts held at once are capped (`max_failed_pins`); right PINs beyond the cap
/// wait for a claim given back instead of being refused, and every claim is given back.
#[tokio::test]
async fn more_concurrent_right_pins_than_the_cap_all_sign() {
    use diesel::prelude::*;
    use kyso::db::schema::{signers, signing_log};
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let max = kyso::config::Settings::default().keys.max_failed_pins;
    let right = app.pki.pin("99001-chair");
    let attempts = (0..3 * max).map(|_| try_pin(&app, &pdf, "99001-chair", &right));
    let answers = futures_util::future::join_all(attempts).await;
    assert!(
        answers.iter().all(|a| *a == (200, "signed".to_owned())),
        "{answers:?}"
    );
    let conn = &mut *kyso::db::get(&app.pool).unwrap();
    let counted: (i32, i32) = signers::table
        .find("99001-chair")
        .select((signers::pin_claims, signers::wrong_pins))
        .first(conn)
        .unwrap();
    assert_eq!(counted, (0, 0));
    // Each signature has its line, however the signing log grouped them into commits.
    let logged: i64 = signing_log::table
        .filter(signing_log::signer_id.eq("99001-chair"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(logged, i64::from(3 * max));
}

#[tokio::test]
async fn a_right_pin_does_not_forgive_the_wrong_ones() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let max = kyso::config::Settings::default().keys.max_failed_pins;
    let right = app.pki.pin("99001-chair");
    for _ in 1..max {
        assert_eq!(
            try_pin(&app, &pdf, "99001-chair", "000000").await,
            (403, "pin_wrong".into())
        );
    }
    assert_eq!(try_pin(&app, &pdf, "99001-chair", &right).await.1, "signed");
    // One more guess reaches the threshold: the earlier ones still count.
    assert_eq!(
        try_pin(&app, &pdf, "99001-chair", "000000").await,
        (403, "pin_wrong".into())
    );
    assert_eq!(
        try_pin(&app, &pdf, "99001-chair", &right).await,
        (423, "key_locked".into())
    );
}

#[tokio::test]
async fn revoked_and_expired_keys_are_refused() {
    let app = spawn_app().await;
    let mut conn = kyso::db::get(&app.pool).unwrap();
    let (_, expired) = clients::create_until(
        &mut conn,
        Role::Admin,
        None,
        "expired",
        Some(Utc::now() - Duration::seconds(1)),
    )
    .unwrap();
    let (_, later) = clients::create_until(
        &mut conn,
        Role::Admin,
        None,
        "later",
        Some(Utc::now() + Duration::days(1)),
    )
    .unwrap();
    let (revoked_client, revoked) = clients::create(&mut conn, Role::Admin, None, "r").unwrap();
    drop(conn);
    json_of(get(&app, &later, "/api/v1/rollout").await, 200).await;
    json_of(get(&app, &revoked, "/api/v1/rollout").await, 200).await;

    // `kyso apikey revoke`, the command an administrator runs, on the same database.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["apikey", "revoke", &revoked_client.id])
        .env("KYSO_DATABASE_URL", &app.database_url)
        .env("KYSO_DATA_DIR", app.data_dir())
        .env("KYSO_PKI__DEV_DIR", &app.pki.dir)
        .env("KYSO_PKI__TRUST_DIR", app.data_dir().join("trust"))
        .env("KYSO_PKI__CRL_DIR", app.data_dir().join("crl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for key in [&expired, &revoked] {
        let response = get(&app, key, "/api/v1/rollout").await;
        assert_eq!(error_code(response, 401).await, "unauthorized");
    }
}

fn cookie(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("kyso_session="))
        .expect("a session cookie")
}

#[tokio::test]
async fn the_dashboard_cookie_is_a_session_not_the_key() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (client, key) = clients::create(
        &mut kyso::db::get(&app.pool).unwrap(),
        Role::Viewer,
        None,
        "dashboard",
    )
    .unwrap();
    let response = http
        .post(format!("{}/rollout/session", app.address))
        .form(&[("key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let set = cookie(response.headers());
    let minutes = kyso::config::Settings::default().security.session_minutes;
    for part in [
        format!("Max-Age={}", minutes * 60),
        "HttpOnly".into(),
        "SameSite=Strict".into(),
        "Path=/rollout".into(),
    ] {
        assert!(set.contains(&part), "{part} missing: {set}");
    }
    let session = set
        .trim_start_matches("kyso_session=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(!set.contains(&key) && session.len() >= 40, "{set}");
    let page = |session: String| {
        let http = &http;
        let address = &app.address;
        async move {
            http.get(format!("{address}/rollout"))
                .header("Cookie", format!("kyso_session={session}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(page(session.clone()).await, 200);
    // The key itself in the cookie is not a session.
    assert_eq!(page(key.clone()).await, 401);
    // Revoking the key ends its sessions.
    clients::revoke(&mut kyso::db::get(&app.pool).unwrap(), &client.id).unwrap();
    assert_eq!(page(session).await, 401);
}

#[tokio::test]
async fn forms_posted_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let viewer = app.api_key(Role::Viewer, None);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let own = app.address.clone();
    let sign_in = |headers: Vec<(&'static str, String)>| {
        let (http, address, key) = (&http, &app.address, viewer.clone());
        async move {
            let mut request = http
                .post(format!("{address}/rollout/session"))
                .form(&[("key", key)]);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.unwrap()
        }
    };
    for headers in [
        vec![("Origin", "http://evil.example".to_owned())],
        vec![
            ("Origin", "null".to_owned()),
            ("Sec-Fetch-Site", "cross-site".to_owned()),
        ],
        vec![("Origin", "null".to_owned())],
    ] {
        // A page's form: the refusal is a page, in Vietnamese then English.
        let response = sign_in(headers.clone()).await;
        assert_eq!(response.status(), 403, "{headers:?}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Biểu mẫu được gửi từ trang khác")
                && page.contains("a form posted from another origin is refused"),
            "{headers:?}: {page}"
        );
    }
    for headers in [
        vec![("Origin", own.clone())],
        vec![
            ("Origin", "null".to_owned()),
            ("Sec-Fetch-Site", "same-origin".to_owned()),
        ],
    ] {
        assert_eq!(sign_in(headers).await.status(), 303);
    }
    // The public pages' forms too.
    let response = http
        .post(format!("{own}/verify"))
        .header("Origin", "http://evil.example")
        .multipart(Form::new().part("file", Part::bytes(b"%PDF-1.7".to_vec()).file_name("a.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let responses = [
        app.http.get(format!("{}/verify", app.address)),
        app.http.get(format!("{}/healthz", app.address)),
        app.http.get(format!("{}/no-such-page", app.address)),
        app.http.get(format!("{}/api/v1/rollout", app.address)),
        app.http.get(format!("{}/d/NOSUCHCODE", app.address)),
    ];
    for request in responses {
        let response = request.send().await.unwrap();
        let url = response.url().to_string();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{name} missing on {url}"))
        };
        let csp = header("Content-Security-Policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(header("X-Content-Type-Options"), "nosniff");
        assert_eq!(header("Referrer-Policy"), "no-referrer");
    }
    // The pages need nothing the policy forbids: no script, no inline style.
    let html = admin_text(&app, "/rollout").await;
    assert!(
        !html.contains("<script") && !html.contains("style="),
        "{html}"
    );
}

#[tokio::test]
async fn csv_cells_that_spreadsheets_would_run_are_escaped() {
    let app = spawn_app().await;
    let csv = "code,name,kind,province\n\
               31001,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",xã,@SUM(1)\n\
               31002,+cmd,xã,-2+3\n";
    json_of(
        post_bytes(&app, &app.admin_key, "/api/v1/communes/import", csv.into()).await,
        200,
    )
    .await;
    let export = admin_text(&app, "/api/v1/rollout.csv").await;
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let mut names = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell} in {export}"
            );
        }
        names.push(row[1].to_owned());
    }
    assert!(names.contains(&"'=HYPERLINK(\"http://evil.example\",\"x\")".to_owned()));
    assert!(names.contains(&"'+cmd".to_owned()), "{names:?}");
}

#[tokio::test]
async fn data_and_keys_are_readable_by_the_service_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut database = String::new();
    let app = spawn_app_with(|s| database = s.database_url.clone()).await;
    // An issued document lands in the data folder.
    let copy = app
        .http
        .post(format!("{}/api/v1/certified-copies", app.address))
        .bearer_auth(&app.admin_key)
        .multipart(
            Form::new()
                .text("commune", "99001")
                .text("signer", "99001-chair")
                .text("pin", app.pki.pin("99001-chair"))
                .part(
                    "file",
                    Part::bytes(sample_pdf(XrefStyle::Classic)).file_name("a.pdf"),
                ),
        )
        .send()
        .await
        .unwrap();
    json_of(copy, 201).await;

    let mut checked = 0;
    let mut walk = vec![app.data_dir(), app.pki.dir.clone()];
    if let Some(file) = database.strip_prefix("sqlite://") {
        walk.push(file.into());
    }
    while let Some(path) = walk.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            walk.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(
        checked > 10,
        "the PKI, the database and the document were checked"
    );
    let documents = app.data_dir().join("documents");
    assert!(std::fs::read_dir(documents).unwrap().count() > 0);
}

/// Any body will do: a malformed query is answered too (with an RFC 3161 rejection), and
/// costs the authority a signature-less reply, so it is counted like a real one.
async fn timestamp_query(app: &TestApp, key: Option<&str>) -> reqwest::Response {
    let query = b"not a request".to_vec();
    let mut request = app
        .http
        .post(format!("{}/tsa", app.address))
        .header("Content-Type", "application/timestamp-query")
        .body(query);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_tsa_needs_a_key_and_is_rate_limited() {
    let app = spawn_app_with(|s| {
        s.tsa.public = false;
        s.tsa.rate_per_second = 0.01;
        s.tsa.burst = 2.0;
    })
    .await;
    let response = timestamp_query(&app, None).await;
    assert_eq!(error_code(response, 401).await, "unauthorized");
    let viewer = app.api_key(Role::Viewer, None);
    for _ in 0..2 {
        assert_eq!(timestamp_query(&app, Some(&viewer)).await.status(), 200);
    }
    let response = timestamp_query(&app, Some(&viewer)).await;
    let retry: u64 = response.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    assert_eq!(error_code(response, 429).await, "rate_limited");

    let public = spawn_app_with(|s| s.tsa.public = true).await;
    assert_eq!(timestamp_query(&public, None).await.status(), 200);
}

/// Every wrong PIN is in the server's log with the client that sent it, and the PIN itself
/// nowhere (issue 9). The real binary, its log read from its standard error.
#[tokio::test]
async fn a_wrong_pin_is_logged_with_the_client_and_without_the_pin() {
    use std::process::{Command, Stdio};

    let db = crate::helpers::TestDb::new();
    let data = tempfile::tempdir().unwrap();
    let pool = kyso::db::connect(&db.url).unwrap();
    let (client, key) =
        clients::create(&mut kyso::db::get(&pool).unwrap(), Role::Admin, None, "log").unwrap();
    let pki = crate::helpers::dev_pki();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = data.path().join("kyso.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["--log-format", "json", "serve"])
        .env("KYSO_BIND", format!("127.0.0.1:{port}"))
        .env("KYSO_DATABASE_URL", &db.url)
        .env("KYSO_DATA_DIR", data.path())
        .env("KYSO_PKI__DEV_DIR", &pki.dir)
        .env("KYSO_PKI__TRUST_DIR", data.path().join("trust"))
        .env("KYSO_PKI__CRL_DIR", data.path().join("crl"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{address}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pin = "sai-9f3a71c2";
    let form = Form::new()
        .part(
            "file",
            Part::bytes(sample_pdf(XrefStyle::Classic)).file_name("in.pdf"),
        )
        .text("signer", "99001-chair")
        .text("pin", pin);
    let response = http
        .post(format!("{address}/api/v1/sign"))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let code = error_code(response, 403).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(code, "pin_wrong");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("wrong PIN"))
        .unwrap_or_else(|| panic!("no wrong-PIN line in the log:\n{text}"));
    let entry: Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["fields"]["client"], client.id.as_str(), "{line}");
    assert_eq!(entry["fields"]["signer"], "99001-chair", "{line}");
    assert!(!text.contains(pin), "the PIN is in the log:\n{text}");
}

/// The dashboard shows a viewer no link to a commune's page, which answers a viewer 403; an
/// admin gets the links.
#[tokio::test]
async fn a_viewer_sees_no_links_it_may_not_follow() {
    let app = spawn_app().await;
    let viewer = app.api_key(Role::Viewer, None);
    let page = |key: String| {
        let app = &app;
        async move {
            let response = get(app, &key, "/rollout").await;
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let admin_page = page(app.admin_key.clone()).await;
    assert!(
        admin_page.contains("href=\"/rollout/communes/99001\""),
        "{admin_page}"
    );
    let viewer_page = page(viewer.clone()).await;
    assert!(!viewer_page.contains("/rollout/communes/"), "{viewer_page}");
    assert!(viewer_page.contains("99001"));
    assert_eq!(
        get(&app, &viewer, "/rollout/communes/99001").await.status(),
        403
    );
}

/// A viewer key that tries to sign, issue or seal is told that its key only reads, before
/// anything about the signer, commune or document is looked at (it used to hear that the
/// signer "belongs to another commune"); its dashboard links to no page it may not open.
#[tokio::test]
async fn a_viewer_is_told_its_key_only_reads() {
    let app = spawn_app().await;
    let viewer = app.api_key(Role::Viewer, None);
    let pdf = sample_pdf(XrefStyle::Classic);
    let copy = app.post_copy(vec![("scan.pdf", pdf.clone())], &[]).await;
    let document = app.json_ok(copy, 201).await;
    let id = document["id"].as_str().unwrap();
    let mut extract = crate::documents::marital_status();
    extract["pin"] = json!(app.pki.pin("99001-vice-chair"));
    let attempts = [
        app.sign_as(
            &viewer,
            &pdf,
            SignParams {
                signer: "99001-chair",
                ..Default::default()
            },
        )
        .await,
        app.http
            .post(format!("{}/api/v1/extracts", app.address))
            .bearer_auth(&viewer)
            .json(&extract)
            .send()
            .await
            .unwrap(),
        app.http
            .post(format!("{}/api/v1/certified-copies", app.address))
            .bearer_auth(&viewer)
            .multipart(
                Form::new()
                    .text("commune", "99001")
                    .text("signer", "99001-chair")
                    .text("pin", app.pki.pin("99001-chair"))
                    .part("file", Part::bytes(pdf.clone()).file_name("scan.pdf")),
            )
            .send()
            .await
            .unwrap(),
        app.http
            .post(format!("{}/api/v1/documents/{id}/seal", app.address))
            .bearer_auth(&viewer)
            .json(&json!({"agency_pin": app.agency_pin()}))
            .send()
            .await
            .unwrap(),
    ];
    for (i, response) in attempts.into_iter().enumerate() {
        assert_eq!(response.status(), 403, "attempt {i}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden", "attempt {i}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("a viewer key only reads") && !message.contains("commune `"),
            "attempt {i}: {message}"
        );
    }
    // Nothing was signed or sealed, and no PIN attempt was counted.
    assert_eq!(app.signing_log_count(), 1);
    {
        use diesel::prelude::*;
        use kyso::db::schema::signers;
        let counted: Vec<(i32, i32)> = signers::table
            .filter(signers::id.eq_any(["99001-chair", "99001-agency", "99001-vice-chair"]))
            .select((signers::pin_claims, signers::wrong_pins))
            .load(&mut *kyso::db::get(&app.pool).unwrap())
            .unwrap();
        assert_eq!(counted, vec![(0, 0); 3]);
    }

    let dashboard = |key: String| {
        let app = &app;
        async move {
            app.http
                .get(format!("{}/rollout", app.address))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let seen = dashboard(viewer.clone()).await;
    assert!(seen.contains("Phường Thành Đông"), "{seen}");
    assert!(!seen.contains("/rollout/communes/"), "{seen}");
    let page = get(&app, &viewer, "/rollout/communes/99001").await;
    assert_eq!(page.status(), 403);
    let admin = dashboard(app.admin_key.clone()).await;
    assert!(
        admin.contains(r#"href="/rollout/communes/99001""#),
        "{admin}"
    );
}
