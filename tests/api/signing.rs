//! `POST /api/v1/sign` end to end, checked by pdfsig, pyHanko and qpdf.

use kyso::clients::Role;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, spawn_app_with, SignParams, TestApp};
use crate::validators::{artifact_dir, pyhanko_validate};

fn save(name: &str, pdf: &[u8]) {
    let _ = std::fs::write(artifact_dir("signing").join(name), pdf);
}

const VISIBLE: &str = r#"{"page": 1, "rect": [320, 40, 570, 120]}"#;

#[tokio::test]
async fn every_input_layout_signs_with_the_original_bytes_untouched() {
    let app = spawn_app().await;
    for style in XrefStyle::ALL {
        let input = sample_pdf(style);
        let signed = app
            .signed(
                &input,
                SignParams {
                    signer: "99001-chair",
                    ..Default::default()
                },
            )
            .await;
        assert!(
            signed.starts_with(&input),
            "{style:?}: original bytes changed"
        );
        save(&format!("{style:?}-b-b.pdf"), &signed);
        app.assert_accepted(&signed, 1);
    }
    assert_eq!(app.signing_log_count(), XrefStyle::ALL.len() as i64);
}

#[tokio::test]
async fn rsa_and_ecdsa_visible_and_invisible_b_b_and_b_t() {
    let app = spawn_app().await;
    let input = sample_pdf(XrefStyle::Stream);
    for (signer, level, visible) in [
        ("99001-chair", "B-T", Some(VISIBLE)),
        ("99001-vice-chair", "B-B", Some(VISIBLE)),
        ("99001-vice-chair", "B-T", None),
        ("99002-agency", "B-T", Some(VISIBLE)),
    ] {
        let signed = app
            .signed(
                &input,
                SignParams {
                    signer,
                    level: Some(level),
                    visible,
                    ..Default::default()
                },
            )
            .await;
        save(
            &format!("{signer}-{level}-{}.pdf", visible.is_some()),
            &signed,
        );
        app.assert_accepted(&signed, 1);
        let line = &pyhanko_validate(&signed, &app.pki.root()).unwrap()[0];
        assert_eq!(
            line.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
            level == "B-T",
            "{signer} {level}: {line}"
        );
    }
}

#[tokio::test]
async fn visible_signature_shows_signer_and_time_in_vietnamese() {
    let app = spawn_app().await;
    let signed = app
        .signed(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-civil-status",
                visible: Some(VISIBLE),
                ..Default::default()
            },
        )
        .await;
    let text = crate::validators::pdftotext(&signed);
    let name = &app.pki.signer("99001-civil-status").name;
    assert!(text.contains(&format!("Ký bởi: {name}")), "{text}");
    assert!(text.contains("Công chức Tư pháp - Hộ tịch"), "{text}");
    assert!(text.contains("UBND PHƯỜNG THÀNH ĐÔNG"), "{text}");
    assert!(text.contains("+07:00"), "{text}");
}

/// `input` signed by the commune's civil-status official, visibly on page 1.
async fn official_on_page_one(app: &TestApp, input: &[u8]) -> Vec<u8> {
    app.signed(
        input,
        SignParams {
            signer: "99001-civil-status",
            visible: Some(VISIBLE),
            ..Default::default()
        },
    )
    .await
}

#[tokio::test]
async fn official_then_agency_both_stay_valid() {
    let app = spawn_app().await;
    let input = sample_pdf(XrefStyle::Classic);
    let first = official_on_page_one(&app, &input).await;
    let second = app
        .signed(
            &first,
            SignParams {
                signer: "99001-agency",
                level: Some("B-T"),
                ..Default::default()
            },
        )
        .await;
    assert!(second.starts_with(&first));
    save("official-then-agency.pdf", &second);
    app.assert_accepted(&second, 2);
    let lines = pyhanko_validate(&second, &app.pki.root()).unwrap();
    assert!(
        lines[0].contains("UNTOUCHED") || lines[0].contains("EXTENDED"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_pdf_signed_by_pyhanko_keeps_its_signature() {
    let app = spawn_app().await;
    let theirs = app.signed_by_pyhanko(&sample_pdf(XrefStyle::Classic));
    let ours = app
        .signed(
            &theirs,
            SignParams {
                signer: "99001-agency",
                ..Default::default()
            },
        )
        .await;
    assert!(ours.starts_with(&theirs));
    save("pyhanko-then-kyso.pdf", &ours);
    app.assert_accepted(&ours, 2);
}

#[tokio::test]
async fn b_t_through_a_tsa_over_http() {
    // One instance serves /tsa; another is configured to use it by URL.
    let tsa = spawn_app().await;
    let url = format!("{}/tsa", tsa.address);
    let app = spawn_app_with(|s| s.tsa.url = Some(url)).await;
    let signed = app
        .signed(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                level: Some("B-T"),
                ..Default::default()
            },
        )
        .await;
    let lines = pyhanko_validate(&signed, &app.pki.root()).unwrap();
    assert!(
        lines[0].contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn tsa_rejects_garbage_with_an_rfc3161_status() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/tsa", app.address))
        .header("Content-Type", "application/timestamp-query")
        .body(b"not a request".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/timestamp-reply"
    );
    let body = response.bytes().await.unwrap();
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo ::= SEQUENCE { status INTEGER 2 ...
    assert_eq!(&body[..2], &[0x30, body[1]]);
    assert!(
        body.windows(3).any(|w| w == [0x02, 0x01, 0x02]),
        "rejection status: {body:?}"
    );
}

#[tokio::test]
async fn bad_requests_get_stable_codes_and_write_nothing() {
    let app = spawn_app_with(|s| s.max_upload_bytes = 200_000).await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let chair = || SignParams {
        signer: "99001-chair",
        ..Default::default()
    };

    let cases: Vec<(&str, Vec<u8>, SignParams<'_>, u16, &str)> = vec![
        (
            "not a PDF",
            b"hello world".to_vec(),
            chair(),
            400,
            "pdf_not_pdf",
        ),
        (
            "truncated",
            pdf[..pdf.len() / 2].to_vec(),
            chair(),
            400,
            "pdf_malformed",
        ),
        ("encrypted", encrypted(&pdf), chair(), 400, "pdf_encrypted"),
        (
            "too large",
            vec![b'%'; 300_000],
            chair(),
            413,
            "payload_too_large",
        ),
        (
            "unknown signer",
            pdf.clone(),
            SignParams {
                signer: "nobody",
                pin: Some("1".into()),
                ..Default::default()
            },
            404,
            "signer_unknown",
        ),
        (
            "wrong PIN",
            pdf.clone(),
            SignParams {
                pin: Some("000000x".into()),
                ..chair()
            },
            403,
            "pin_wrong",
        ),
        (
            "expired",
            pdf.clone(),
            SignParams {
                signer: "99001-expired",
                ..Default::default()
            },
            422,
            "certificate_not_valid",
        ),
        (
            "revoked",
            pdf.clone(),
            SignParams {
                signer: "99001-revoked",
                ..Default::default()
            },
            422,
            "certificate_revoked",
        ),
        (
            "bad level",
            pdf.clone(),
            SignParams {
                level: Some("B-LTX"),
                ..chair()
            },
            400,
            "bad_request",
        ),
        (
            "bad placement",
            pdf.clone(),
            SignParams {
                visible: Some("{\"page\": 9, \"rect\": [0,0,100,100]}"),
                ..chair()
            },
            400,
            "bad_request",
        ),
    ];
    for (what, body, params, status, code) in cases {
        let response = app.sign(&body, params).await;
        assert_eq!(response.status(), status, "{what}");
        assert_eq!(error_code(response, status).await, code, "{what}");
    }

    let no_key = app
        .http
        .post(format!("{}/api/v1/sign", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(no_key, 401).await, "unauthorized");

    // A wrong key is refused before anything the body holds is judged, although a small body
    // is read first (its key is checked in the signing hop).
    let wrong_key = app
        .http
        .post(format!("{}/api/v1/sign", app.address))
        .bearer_auth("not-a-key")
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body("not a form")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong_key, 401).await, "unauthorized");

    // Another commune's signer is answered like an unknown one.
    let other_commune = app.api_key(Role::Portal, Some("99002"));
    let response = app.sign_as(&other_commune, &pdf, chair()).await;
    assert_eq!(error_code(response, 404).await, "signer_unknown");
    let own_commune = app.api_key(Role::Portal, Some("99001"));
    assert_eq!(app.sign_as(&own_commune, &pdf, chair()).await.status(), 200);

    // Only the one successful signature was logged.
    assert_eq!(app.signing_log_count(), 1);
}

#[tokio::test]
async fn five_wrong_pins_lock_the_key() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let wrong = || SignParams {
        signer: "99001-chair",
        pin: Some("999999x".into()),
        ..Default::default()
    };
    let right = SignParams {
        signer: "99001-chair",
        ..Default::default()
    };
    // The right PIN first: the key is then held unlocked, and the right PIN signs without an
    // attempt being claimed; every other PIN is still an attempt, counted.
    assert_eq!(app.sign(&pdf, right.clone()).await.status(), 200);
    // Each refusal says how many tries are left; the fifth locks the key.
    for left in (0..5).rev() {
        let response = app.sign(&pdf, wrong()).await;
        assert_eq!(response.status(), 403);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "pin_wrong");
        assert_eq!(body["error"]["attempts_left"], left, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        let expected = match left {
            0 => "no attempt left: the key is now locked".to_owned(),
            1 => "1 attempt left before the key is locked".to_owned(),
            n => format!("{n} attempts left before the key is locked"),
        };
        assert!(message.ends_with(&expected), "{message}");
        assert!(!message.contains("999999x"), "{message}");
    }
    // Locked, the key is refused even to the PIN it is held unlocked with.
    assert_eq!(
        error_code(app.sign(&pdf, right.clone()).await, 423).await,
        "key_locked"
    );
    // Other keys are not affected.
    let other = SignParams {
        signer: "99001-agency",
        ..Default::default()
    };
    assert_eq!(app.sign(&pdf, other).await.status(), 200);
}

#[tokio::test]
async fn pins_never_appear_in_errors() {
    let app = spawn_app().await;
    let pin = "314159-secret";
    let response = app
        .sign(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                pin: Some(pin.into()),
                ..Default::default()
            },
        )
        .await;
    let body = response.text().await.unwrap();
    assert!(!body.contains(pin), "{body}");
}

pub fn encrypted(pdf: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let status = std::process::Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(output).unwrap()
}

#[test]
fn production_signers_must_chain_to_the_trust_folder() {
    use diesel::RunQueryDsl;
    let dir = tempfile::tempdir().unwrap();
    let pki = crate::helpers::dev_pki();
    let db = format!("sqlite://{}", dir.path().join("kyso.db").display());
    let config = dir.path().join("kyso.toml");
    let trust = dir.path().join("trust");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{db}\"\n[pki]\ntrust_dir = \"{}\"\n",
            trust.display()
        ),
    )
    .unwrap();
    let pool = kyso::db::connect(&db).unwrap();
    diesel::insert_into(kyso::db::schema::communes::table)
        .values(&kyso::db::models::Commune {
            code: "12345".into(),
            name: "Phường Thử".into(),
            kind: "phường".into(),
            province: "Thành phố Hải Phòng".into(),
            demo: false,
            created_at: kyso::db::now(),
        })
        .execute(&mut *kyso::db::get(&pool).unwrap())
        .unwrap();
    let signer = pki.signer("99001-chair");
    let add = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "signer",
                "add",
                "--id",
                "x",
                "--commune",
                "12345",
            ])
            .args([
                "--kind",
                "official",
                "--name",
                "Nguyễn Văn A",
                "--title",
                "Chủ tịch UBND",
                "--certificate",
            ])
            .arg(pki.manifest.path(&pki.dir, &signer.certificate))
            .arg("--pkcs12")
            .arg(pki.pkcs12("99001-chair"))
            .output()
            .unwrap()
    };
    // Production does not trust the dev PKI…
    let refused = add();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("trust anchor"));
    // … unless its CAs are put in the trust folder.
    std::fs::create_dir(&trust).unwrap();
    std::fs::copy(pki.root(), trust.join("root.pem")).unwrap();
    std::fs::copy(
        pki.manifest.path(&pki.dir, &pki.manifest.issuing_ca),
        trust.join("ca.pem"),
    )
    .unwrap();
    let added = add();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
}

/// Signatures made in turn on a file read once (an extract's official signature, then the
/// agency's seal) are byte for byte those made one after the other on the file read anew each
/// time (RSA PKCS #1 v1.5 signatures are deterministic): in every cross-reference layout,
/// visible or not, on one page or two, on a file that already holds a signed form.
#[test]
fn signatures_in_turn_are_those_made_one_after_the_other() {
    use chrono::{Duration, Utc};
    use kyso::pdf::read::Limits;
    use kyso::pdf::sign::{self, Appearance, SignatureSpec};
    use kyso::pki::dev::{self, KeyAlgorithm, Profile, SubjectSpec};

    let now = Utc::now();
    let ca = dev::new_root("in-turn CA", KeyAlgorithm::Rsa2048).unwrap();
    let key = |name: &str| {
        let subject = SubjectSpec {
            common_name: name,
            ..Default::default()
        };
        let issued = dev::issue(
            &ca,
            &subject,
            Profile::Signer,
            KeyAlgorithm::Rsa2048,
            now - Duration::hours(1),
            now + Duration::days(1),
        )
        .unwrap();
        crate::pastval::key(&issued, &[&ca])
    };
    let (official, agency) = (key("Nguyễn Văn An"), key("UBND phường Thành Đông"));
    let spec = |page: Option<u32>, reason: &'static str| SignatureSpec {
        time: now.fixed_offset(),
        reason: Some(reason),
        location: Some("Hải Phòng"),
        appearance: page.map(|page| Appearance {
            page,
            rect: [320.0, 40.0, 570.0, 120.0],
            lines: vec![
                format!("Ký bởi: {reason}"),
                "Thời gian ký: 01/12/2026".into(),
            ],
        }),
        timestamper: None,
    };
    let limits = Limits::default();
    for style in XrefStyle::ALL {
        let plain = sample_pdf(style);
        let signed_once = sign::sign(&plain, &spec(None, "earlier"), &official, &limits)
            .unwrap()
            .pdf;
        for input in [&plain, &signed_once] {
            for pages in [(Some(1), Some(1)), (Some(1), Some(2)), (None, Some(1))] {
                let (first, second) = (spec(pages.0, "official"), spec(pages.1, "agency"));
                let apart = sign::sign(input, &first, &official, &limits).unwrap();
                let apart = sign::sign(&apart.pdf, &second, &agency, &limits).unwrap();
                let together =
                    sign::sign_in_turn(input, &[(&first, &official), (&second, &agency)], &limits)
                        .unwrap();
                let last = together.last().unwrap();
                assert!(
                    last.pdf == apart.pdf,
                    "{style:?}, {pages:?}, {} bytes in: the signed files differ",
                    input.len()
                );
                assert_eq!(
                    (last.input_sha256, last.sha256),
                    (apart.input_sha256, apart.sha256)
                );
            }
        }
    }
}
