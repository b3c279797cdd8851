//! Two-step signing: the tests play the official's device for real. kyso gets a certificate
//! and never the key; `to_sign` is signed on a SoftHSM2 token through PKCS#11 (`pkcs11-tool`),
//! or by openssl holding a key of its own (RSA, ECDSA as DER and as `r||s`); pyHanko plays a
//! service that assembles its own CMS, and a desktop tool (`pyhanko sign addsig`) that signs
//! the whole PDF. Every output passes qpdf, pdfsig and pyHanko; every refusal writes nothing.

use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::{Decode, Encode};
use diesel::prelude::*;
use kyso::db::schema::{documents, signing_log, signing_sessions};
use kyso::pki::dev::{Issued, KeyAlgorithm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp};
use crate::pkcs11::{chair_leaf, succeed, tokens, MODULE, USER_PIN};
use crate::rollout::{json_of, post_bytes};
use crate::validators::{pyhanko_cms, pyhanko_sign};

/// What `POST /api/v1/signing-sessions` handed out.
struct Session {
    id: String,
    to_sign: Vec<u8>,
    digest: Vec<u8>,
    algorithm: String,
}

async fn register(app: &TestApp, cert: &X509) {
    let response = post_bytes(
        app,
        &app.admin_key,
        "/api/v1/certificates",
        cert.to_pem().unwrap(),
    )
    .await;
    json_of(response, 201).await;
}

async fn open_as(
    app: &TestApp,
    key: &str,
    pdf: &[u8],
    cert: &X509,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new()
        .part("file", Part::bytes(pdf.to_vec()).file_name("in.pdf"))
        .part(
            "certificate",
            Part::bytes(cert.to_pem().unwrap()).file_name("cert.pem"),
        );
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    app.http
        .post(format!("{}/api/v1/signing-sessions", app.address))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Opens a session and checks what it hands out: `digest` is SHA-256 of `to_sign`, which is
/// the DER SET OF kyso's three PAdES attributes.
async fn open(app: &TestApp, pdf: &[u8], cert: &X509, fields: &[(&str, &str)]) -> Session {
    let body = json_of(open_as(app, &app.admin_key, pdf, cert, fields).await, 201).await;
    let to_sign = B64.decode(body["to_sign"].as_str().unwrap()).unwrap();
    let digest = B64.decode(body["digest"].as_str().unwrap()).unwrap();
    assert_eq!(
        digest,
        openssl::hash::hash(MessageDigest::sha256(), &to_sign)
            .unwrap()
            .to_vec()
    );
    assert_eq!(body["digest_algorithm"], "sha256");
    assert!(body["expires_at"].as_str().is_some(), "{body}");
    let attrs = der::asn1::SetOfVec::<x509_cert::attr::Attribute>::from_der(&to_sign).unwrap();
    assert_eq!(
        attrs.len(),
        3,
        "contentType, messageDigest, signingCertificateV2"
    );
    Session {
        id: body["id"].as_str().unwrap().to_owned(),
        to_sign,
        digest,
        algorithm: body["signature_algorithm"].as_str().unwrap().to_owned(),
    }
}

async fn post_json(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.http
        .post(format!(
            "{}/api/v1/signing-sessions/{id}/signature",
            app.address
        ))
        .bearer_auth(&app.admin_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn signed_pdf(response: reqwest::Response) -> Vec<u8> {
    let status = response.status();
    let content_type = response.headers().get("content-type").cloned();
    let body = response.bytes().await.unwrap().to_vec();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type.unwrap(), "application/pdf");
    body
}

/// The device: SHA-256 with the key's own scheme; ECDSA as DER or as `r||s`.
fn openssl_sign(key: &PKey<Private>, data: &[u8], plain: bool) -> Vec<u8> {
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(data).unwrap();
    let der = signer.sign_to_vec().unwrap();
    if !plain {
        return der;
    }
    let sig = EcdsaSig::from_der(&der).unwrap();
    [
        sig.r().to_vec_padded(32).unwrap(),
        sig.s().to_vec_padded(32).unwrap(),
    ]
    .concat()
}

/// The token signs through PKCS#11 (`pkcs11-tool --sign`): RSA with `SHA256-RSA-PKCS` over
/// `to_sign`, ECDSA with plain `ECDSA` over the handed-out `digest` (SoftHSM2 has no hashing
/// ECDSA mechanism), answered as the token gives it (`r||s`).
fn token_sign(token: &str, data: &[u8], mechanism: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::write(&input, data).unwrap();
    succeed(
        Command::new("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", token, "--login"])
            .args(["--pin", USER_PIN, "--sign", "--mechanism", mechanism])
            .args(["--label", "ky-so", "--input-file"])
            .arg(&input)
            .arg("--output-file")
            .arg(&output),
    );
    std::fs::read(output).unwrap()
}

/// (signing log lines, documents, finished sessions).
fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = kyso::db::get(&app.pool).unwrap();
    (
        signing_log::table.count().get_result(&mut conn).unwrap(),
        documents::table.count().get_result(&mut conn).unwrap(),
        signing_sessions::table
            .filter(signing_sessions::state.eq("finished"))
            .count()
            .get_result(&mut conn)
            .unwrap(),
    )
}

/// The signature passes every validator and kyso's own verifier, by the session's certificate.
async fn assert_signed_by(app: &TestApp, pdf: &[u8], cert: &X509, signatures: usize) {
    app.assert_accepted(pdf, signatures);
    let report = app.verify(pdf).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report}");
    let last = &report["signatures"][signatures - 1];
    // The report writes the serial's DER bytes, as `openssl x509 -text` does: a positive
    // serial whose first byte is ≥ 0x80 gets a leading `00` that the number itself has not.
    let digits = |hex: &str| hex.replace(':', "").trim_start_matches('0').to_lowercase();
    let serial = cert.serial_number().to_bn().unwrap().to_hex_str().unwrap();
    assert_eq!(
        digits(last["signer"]["serial"].as_str().unwrap()),
        digits(&serial),
        "{last}"
    );
}

#[tokio::test]
async fn raw_values_from_keys_kyso_never_sees_are_embedded() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let cases = [
        (KeyAlgorithm::Rsa2048, false, "rsa_pkcs1_sha256"),
        (KeyAlgorithm::EcdsaP256, false, "ecdsa_sha256"),
        (KeyAlgorithm::EcdsaP256, true, "ecdsa_sha256"),
    ];
    for (i, (alg, plain, algorithm)) in cases.into_iter().enumerate() {
        let leaf = chair_leaf(alg);
        register(&app, &leaf.cert).await;
        let visible = r#"{"page": 1, "rect": [50, 50, 250, 110]}"#;
        let mut fields = vec![("level", "B-T"), ("reason", "Phê duyệt")];
        if i == 0 {
            fields.push(("visible", visible));
        }
        let session = open(&app, &pdf, &leaf.cert, &fields).await;
        assert_eq!(session.algorithm, algorithm);
        let value = openssl_sign(&leaf.key, &session.to_sign, plain);
        let signed = signed_pdf(
            post_json(&app, &session.id, json!({"signature": B64.encode(&value)})).await,
        )
        .await;
        assert!(signed.starts_with(&pdf), "an incremental update");
        assert_signed_by(&app, &signed, &leaf.cert, 1).await;
        assert_eq!(counts(&app).0, i as i64 + 1);

        // Single use: the same value again is refused, and nothing more is written.
        let again = post_json(&app, &session.id, json!({"signature": B64.encode(&value)})).await;
        assert_eq!(error_code(again, 409).await, "session_used");
        assert_eq!(counts(&app).0, i as i64 + 1);
    }
    let logged: (Option<String>, Option<String>, Option<String>) = signing_log::table
        .select((
            signing_log::signer_id,
            signing_log::certificate_id,
            signing_log::session_id,
        ))
        .first(&mut kyso::db::get(&app.pool).unwrap())
        .unwrap();
    assert!(logged.0.is_none() && logged.1.is_some() && logged.2.is_some());
    let audit = json_of(
        app.http
            .get(format!(
                "{}/api/v1/audit?entity=signing_session",
                app.address
            ))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap_or_else(|| panic!("{audit}"))
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "signing_session.finish")
            .count(),
        3
    );
}

#[tokio::test]
async fn keys_on_a_softhsm_token_sign_to_sign() {
    let tokens = tokens();
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Stream);
    for (token, cert, mechanism) in [
        ("kyso-rsa", &tokens.rsa, "SHA256-RSA-PKCS"),
        ("kyso-ecdsa", &tokens.ecdsa, "ECDSA"),
    ] {
        register(&app, cert).await;
        let session = open(&app, &pdf, cert, &[("level", "B-T")]).await;
        let input = if mechanism == "ECDSA" {
            session.digest.clone()
        } else {
            session.to_sign.clone()
        };
        let value = token_sign(token, &input, mechanism);
        let signed = signed_pdf(
            post_json(&app, &session.id, json!({"signature": B64.encode(&value)})).await,
        )
        .await;
        assert_signed_by(&app, &signed, cert, 1).await;
    }
}

/// PEM files of a key kyso never sees, its certificate and the chain, for pyHanko.
struct KeyFiles {
    _dir: tempfile::TempDir,
    key: std::path::PathBuf,
    cert: std::path::PathBuf,
    chain: std::path::PathBuf,
    pkcs12: std::path::PathBuf,
}

fn key_files(app: &TestApp, leaf: &Issued) -> KeyFiles {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(
        path("key.pem"),
        leaf.key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    std::fs::write(path("cert.pem"), leaf.cert.to_pem().unwrap()).unwrap();
    let pki = app.pki;
    let ca = crate::rollout::dev_ca(pki);
    std::fs::write(path("chain.pem"), ca.cert.to_pem().unwrap()).unwrap();
    let mut chain = openssl::stack::Stack::new().unwrap();
    chain.push(ca.cert.clone()).unwrap();
    let p12 = Pkcs12::builder()
        .name("device")
        .pkey(&leaf.key)
        .cert(&leaf.cert)
        .ca(chain)
        .build2("device-pin")
        .unwrap();
    std::fs::write(path("device.p12"), p12.to_der().unwrap()).unwrap();
    KeyFiles {
        key: path("key.pem"),
        cert: path("cert.pem"),
        chain: path("chain.pem"),
        pkcs12: path("device.p12"),
        _dir: dir,
    }
}

/// The messageDigest inside `to_sign`: what a CMS-assembling service is given to sign.
fn message_digest(to_sign: &[u8]) -> Vec<u8> {
    let attrs = der::asn1::SetOfVec::<x509_cert::attr::Attribute>::from_der(to_sign).unwrap();
    let attr = attrs
        .iter()
        .find(|a| a.oid == const_oid::db::rfc5911::ID_MESSAGE_DIGEST)
        .unwrap();
    let value = attr.values.get(0).unwrap().to_der().unwrap();
    der::asn1::OctetString::from_der(&value)
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[tokio::test]
async fn a_whole_cms_from_a_signing_service_is_checked_and_embedded() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let leaf = chair_leaf(KeyAlgorithm::Rsa2048);
    register(&app, &leaf.cert).await;
    let files = key_files(&app, &leaf);
    let cms = |digest: &[u8]| pyhanko_cms(digest, &files.key, &files.cert, &files.chain);

    // A CMS over another document's digest: refused, nothing written, the session still open.
    let session = open(&app, &pdf, &leaf.cert, &[("level", "B-T")]).await;
    let wrong = cms(&[7u8; 32]);
    let response = post_json(&app, &session.id, json!({"cms": B64.encode(&wrong)})).await;
    assert_eq!(error_code(response, 422).await, "signature_invalid");
    assert_eq!(counts(&app), (0, 0, 0));

    // A CMS by another certificate over the right digest: refused too.
    let other = chair_leaf(KeyAlgorithm::Rsa2048);
    let other_files = key_files(&app, &other);
    let digest = message_digest(&session.to_sign);
    let foreign = pyhanko_cms(
        &digest,
        &other_files.key,
        &other_files.cert,
        &other_files.chain,
    );
    let response = post_json(&app, &session.id, json!({"cms": B64.encode(&foreign)})).await;
    assert_eq!(error_code(response, 422).await, "signature_invalid");
    assert_eq!(counts(&app), (0, 0, 0));

    let right = cms(&digest);
    let signed =
        signed_pdf(post_json(&app, &session.id, json!({"cms": B64.encode(&right)})).await).await;
    assert_signed_by(&app, &signed, &leaf.cert, 1).await;
    assert_eq!(counts(&app), (1, 0, 1));
}

async fn get_document(app: &TestApp, id: &str) -> Vec<u8> {
    let response = app
        .http
        .get(format!(
            "{}/api/v1/signing-sessions/{id}/document",
            app.address
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    signed_pdf(response).await
}

async fn post_signed_pdf(app: &TestApp, id: &str, pdf: Vec<u8>) -> reqwest::Response {
    app.http
        .post(format!(
            "{}/api/v1/signing-sessions/{id}/signed-pdf",
            app.address
        ))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_desktop_tool_signs_the_handed_out_pdf() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let leaf = chair_leaf(KeyAlgorithm::EcdsaP256);
    register(&app, &leaf.cert).await;
    let files = key_files(&app, &leaf);
    let tsa = format!("{}/tsa", app.address);

    let session = open(&app, &pdf, &leaf.cert, &[("level", "B-T")]).await;
    let handed_out = get_document(&app, &session.id).await;
    assert_eq!(handed_out, pdf, "the unsigned PDF exactly");
    let signed = pyhanko_sign(&handed_out, "Sig1", &files.pkcs12, "device-pin", Some(&tsa));

    // Tampered: a byte of the handed-out part changed.
    let mut tampered = signed.clone();
    let at = tampered
        .windows(8)
        .position(|w| w == b"/MediaBox")
        .unwrap_or(20);
    tampered[at + 1] ^= 0x01;
    let response = post_signed_pdf(&app, &session.id, tampered).await;
    assert_eq!(error_code(response, 422).await, "signed_pdf_rejected");
    // Tampered after signing: a hex digit of the new signature's /Contents.
    let mut broken = signed.clone();
    let contents = pdf.len()
        + signed[pdf.len()..]
            .windows(10)
            .position(|w| w == b"/Contents ")
            .unwrap();
    let at = contents + 200;
    broken[at] = if broken[at] == b'1' { b'2' } else { b'1' };
    let response = post_signed_pdf(&app, &session.id, broken).await;
    assert_eq!(error_code(response, 422).await, "signed_pdf_rejected");
    // Signed by someone else: the 99002 chair's key.
    let foreign = pyhanko_sign(
        &handed_out,
        "Sig1",
        &app.pki.pkcs12("99002-chair"),
        &app.pki.pin("99002-chair"),
        Some(&tsa),
    );
    let response = post_signed_pdf(&app, &session.id, foreign).await;
    assert_eq!(error_code(response, 422).await, "signed_pdf_rejected");
    // Not a PDF body.
    let response = app
        .http
        .post(format!(
            "{}/api/v1/signing-sessions/{}/signed-pdf",
            app.address, session.id
        ))
        .bearer_auth(&app.admin_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 415).await, "media_unsupported");
    assert_eq!(counts(&app), (0, 0, 0));

    let accepted = signed_pdf(post_signed_pdf(&app, &session.id, signed.clone()).await).await;
    assert_eq!(accepted, signed, "B-T: kept as the tool made it");
    assert_signed_by(&app, &accepted, &leaf.cert, 1).await;
    assert_eq!(counts(&app), (1, 0, 1));
    let response = post_signed_pdf(&app, &session.id, signed).await;
    assert_eq!(error_code(response, 409).await, "session_used");
}

/// Moves a session's end into the past, as if its ten minutes had gone by.
fn expire_now(app: &TestApp, id: &str) {
    diesel::update(signing_sessions::table.find(id))
        .set(signing_sessions::expires_at.eq("2000-01-01T00:00:00Z"))
        .execute(&mut kyso::db::get(&app.pool).unwrap())
        .unwrap();
}

#[tokio::test]
async fn wrong_foreign_expired_and_unregistered_are_refused_with_nothing_written() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let leaf = chair_leaf(KeyAlgorithm::Rsa2048);

    // Not registered yet: no session.
    let response = open_as(&app, &app.admin_key, &pdf, &leaf.cert, &[]).await;
    assert_eq!(
        error_code(response, 422).await,
        "certificate_not_registered"
    );
    register(&app, &leaf.cert).await;
    // Another commune's key learns nothing about it.
    let other_commune = app.api_key(kyso::clients::Role::Portal, Some("99002"));
    let response = open_as(&app, &other_commune, &pdf, &leaf.cert, &[]).await;
    assert_eq!(
        error_code(response, 422).await,
        "certificate_not_registered"
    );
    let viewer = app.api_key(kyso::clients::Role::Viewer, None);
    let response = open_as(&app, &viewer, &pdf, &leaf.cert, &[]).await;
    assert_eq!(error_code(response, 403).await, "forbidden");

    let session = open(&app, &pdf, &leaf.cert, &[]).await;
    // Foreign: another key's signature over the right bytes.
    let stranger = chair_leaf(KeyAlgorithm::Rsa2048);
    let foreign = openssl_sign(&stranger.key, &session.to_sign, false);
    let response = post_json(
        &app,
        &session.id,
        json!({"signature": B64.encode(&foreign)}),
    )
    .await;
    assert_eq!(error_code(response, 422).await, "signature_invalid");
    // Wrong: the right key over other bytes.
    let wrong = openssl_sign(&leaf.key, b"something else", false);
    let response = post_json(&app, &session.id, json!({"signature": B64.encode(&wrong)})).await;
    assert_eq!(error_code(response, 422).await, "signature_invalid");
    // Malformed requests.
    let response = post_json(&app, &session.id, json!({"signature": "%%%"})).await;
    assert_eq!(error_code(response, 400).await, "bad_request");
    let response = post_json(
        &app,
        &session.id,
        json!({"signature": "AA==", "cms": "AA=="}),
    )
    .await;
    assert_eq!(error_code(response, 400).await, "bad_request");
    let response = post_json(&app, "no-such-session", json!({"signature": "AA=="})).await;
    assert_eq!(error_code(response, 404).await, "not_found");
    // Another commune cannot finish it.
    let response = app
        .http
        .post(format!(
            "{}/api/v1/signing-sessions/{}/signature",
            app.address, session.id
        ))
        .bearer_auth(&other_commune)
        .json(&json!({"signature": B64.encode(openssl_sign(&leaf.key, &session.to_sign, false))}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
    assert_eq!(counts(&app), (0, 0, 0));

    // Expired: even the right value is refused.
    expire_now(&app, &session.id);
    let right = openssl_sign(&leaf.key, &session.to_sign, false);
    let response = post_json(&app, &session.id, json!({"signature": B64.encode(&right)})).await;
    assert_eq!(error_code(response, 410).await, "session_expired");
    let response = app
        .http
        .get(format!(
            "{}/api/v1/signing-sessions/{}/document",
            app.address, session.id
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 410).await, "session_expired");
    assert_eq!(counts(&app), (0, 0, 0));
}

/// An extract of commune 99001 signed by its civil-status officer on their own device.
fn birth_with_certificate(cert: &X509) -> Value {
    json!({
        "kind": "birth",
        "commune": "99001",
        "signer": "99001-civil-status",
        "certificate": String::from_utf8(cert.to_pem().unwrap()).unwrap(),
        "register": {"book": "01/2026", "number": "7", "date": "2026-03-10",
                     "authority": "Ủy ban nhân dân phường Thành Đông"},
        "child": {
            "full_name": "Lê Minh Khôi",
            "sex": "Nam",
            "date_of_birth": "2026-03-01",
            "place_of_birth": "Trạm y tế phường Thành Đông",
            "home_town": "Xã An Hưng, thành phố Hải Phòng",
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "personal_id": "031326004321"
        }
    })
}

async fn post_extract(app: &TestApp, body: &Value) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/extracts", app.address))
        .bearer_auth(&app.admin_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn book(app: &TestApp, kind: &str) -> Value {
    let year = kyso::vietnam::vietnam_time(chrono::Utc::now()).format("%Y");
    let response = app
        .http
        .get(format!(
            "{}/api/v1/numbering-books/99001/{kind}/{year}",
            app.address
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    json_of(response, 200).await
}

/// The civil-status officer's certificate as the registry knows it (the dev PKI's).
fn civil_status_certificate(app: &TestApp) -> X509 {
    let signer = app.pki.signer("99001-civil-status");
    let pem = std::fs::read(app.pki.manifest.path(&app.pki.dir, &signer.certificate)).unwrap();
    X509::from_pem(&pem).unwrap()
}

/// The key behind the dev certificate, read from its PKCS#12 file as the official's device
/// holds it; kyso is only given the certificate.
fn civil_status_key(app: &TestApp) -> PKey<Private> {
    let der = std::fs::read(app.pki.pkcs12("99001-civil-status")).unwrap();
    Pkcs12::from_der(&der)
        .unwrap()
        .parse2(&app.pki.pin("99001-civil-status"))
        .unwrap()
        .pkey
        .unwrap()
}

#[tokio::test]
async fn issued_documents_sign_in_a_session_and_expired_numbers_stay_void() {
    let app = spawn_app_with(|s| s.keys.signing_session_minutes = 10).await;
    let cert = civil_status_certificate(&app);
    let key = civil_status_key(&app);

    // First extract: number 1 taken, its session expires unsigned.
    let first = json_of(
        post_extract(&app, &birth_with_certificate(&cert)).await,
        202,
    )
    .await;
    assert_eq!(first["number_label"], "1/TLKS", "{first}");
    let first_id = first["signing_session"]["id"].as_str().unwrap().to_owned();
    let listing = book(&app, "birth").await;
    assert_eq!(listing["entries"][0]["state"], "pending", "{listing}");
    expire_now(&app, &first_id);

    // Second extract: number 2, finished with the officer's value over to_sign.
    let second = json_of(
        post_extract(&app, &birth_with_certificate(&cert)).await,
        202,
    )
    .await;
    assert_eq!(second["number_label"], "2/TLKS", "{second}");
    let session = &second["signing_session"];
    let to_sign = B64.decode(session["to_sign"].as_str().unwrap()).unwrap();
    let id = session["id"].as_str().unwrap();
    let response = post_json(
        &app,
        id,
        json!({"signature": B64.encode(openssl_sign(&key, &to_sign, false))}),
    )
    .await;
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let pdf = signed_pdf(response).await;
    app.assert_accepted(&pdf, 1);
    let document = json_of(
        app.http
            .get(format!("{}{location}", app.address))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(document["number_label"], "2/TLKS");
    assert_eq!(document["state"], "signed_official");

    // The book: 1 void with its reason, 2 issued; the expired session cannot be finished.
    let listing = book(&app, "birth").await;
    let entries = listing["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{listing}");
    assert_eq!(entries[0]["number"], 1);
    assert_eq!(entries[0]["state"], "void");
    assert!(
        entries[0]["reason"].as_str().unwrap().contains("hết hạn"),
        "{listing}"
    );
    assert_eq!(entries[1]["number"], 2);
    assert_eq!(entries[1]["state"], "issued");
    let response = post_json(
        &app,
        &first_id,
        json!({"signature": B64.encode(openssl_sign(&key, &to_sign, false))}),
    )
    .await;
    assert_eq!(error_code(response, 410).await, "session_expired");

    // The agency seals afterwards with kyso's agency key, as for any document.
    let sealed = app
        .http
        .post(format!("{}{location}/seal", app.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({"agency_pin": app.pki.pin("99001-agency")}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(sealed, 200).await["state"], "sealed");

    // The next number continues after the void one: never reused.
    let third = json_of(
        post_extract(&app, &birth_with_certificate(&cert)).await,
        202,
    )
    .await;
    assert_eq!(third["number_label"], "3/TLKS");

    // A certificate of an official of another commune is refused before any number is taken.
    let mut foreign = birth_with_certificate(&chair_leaf_of_99002(&app));
    foreign["commune"] = json!("99001");
    let response = post_extract(&app, &foreign).await;
    assert_eq!(error_code(response, 422).await, "validation_failed");
    assert_eq!(book(&app, "birth").await["next_number"], 4);
}

fn chair_leaf_of_99002(app: &TestApp) -> X509 {
    let signer = app.pki.signer("99002-chair");
    let pem = std::fs::read(app.pki.manifest.path(&app.pki.dir, &signer.certificate)).unwrap();
    X509::from_pem(&pem).unwrap()
}
