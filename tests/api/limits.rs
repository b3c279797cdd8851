//! Server limits (issue 9, item 2): everything on the wire counts against the upload limit, a
//! body must arrive in time, verifications are capped, and an image's size is judged from its
//! header, only after the key's rights and the PIN.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kyso::clients::Role;
use reqwest::multipart::{Form, Part};

use crate::helpers::{error_code, spawn_app_with, TestApp};

#[tokio::test]
async fn thousands_of_empty_parts_count_against_the_upload_limit() {
    let app = spawn_app_with(|s| s.max_upload_bytes = 256 * 1024).await;
    // 400 parts with 1 KB names and no content: about 430 KB of headers, no file byte.
    let mut form = Form::new();
    for i in 0..400 {
        form = form.text(format!("{i:0>1024}"), "");
    }
    let response = app
        .http
        .post(format!("{}/api/v1/verify", app.address))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 413).await, "payload_too_large");
    assert_healthy(&app).await;
}

async fn assert_healthy(app: &TestApp) {
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// Starts a POST to `path` announcing 1 000 bytes and sends one byte every 300 ms; answers the
/// status line the server sends and how long it took.
fn trickle(address: &str, path: &str) -> (String, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let start = Instant::now();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/pdf\r\n\
         Content-Length: 1000\r\n\r\n%"
    )
    .unwrap();
    let mut answer = Vec::new();
    while start.elapsed() < Duration::from_secs(30) {
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(2).any(|w| w == b"\r\n") {
                    break;
                }
            }
            // Nothing yet: one more byte.
            Err(_) => {
                if stream.write_all(b"P").is_err() {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    (
        text.lines().next().unwrap_or_default().to_owned(),
        start.elapsed(),
    )
}

#[tokio::test]
async fn a_trickled_body_times_out_and_holds_its_slot_only_that_long() {
    let app = spawn_app_with(|s| {
        s.security.body_timeout_secs = 2;
        s.security.max_concurrent_verifications = 1;
    })
    .await;
    let address = app.address.clone();
    let slow = tokio::task::spawn_blocking(move || trickle(&address, "/api/v1/verify"));
    // Meanwhile the only verification slot is taken.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let response = app
        .http
        .post(format!("{}/api/v1/verify", app.address))
        .header("Content-Type", "application/pdf")
        .body(b"%PDF-1.7\n".to_vec())
        .send()
        .await
        .unwrap();
    let retry = response.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(retry.parse::<u64>().unwrap() >= 1, "{retry}");
    assert_eq!(error_code(response, 503).await, "busy");

    let (status, took) = slow.await.unwrap();
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(
        took < Duration::from_secs(6),
        "answered after {took:?}, not when the trickle ended"
    );
    // The slot is free again.
    let response = app
        .http
        .post(format!("{}/api/v1/verify", app.address))
        .header("Content-Type", "application/pdf")
        .body(b"not a pdf".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 400).await, "pdf_not_pdf");
}

/// A real 16 × 16 PNG whose header then claims `width` × `height` (CRC fixed): a few hundred
/// bytes announcing gigabytes of pixels.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 16, 16);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[200u8; 16 * 16 * 3]).unwrap();
    }
    // Signature (8), IHDR length (4), "IHDR" (4), width, height … then the CRC at 29..33.
    out[16..20].copy_from_slice(&width.to_be_bytes());
    out[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&out[12..29]);
    out[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    out
}

#[tokio::test]
async fn an_image_bomb_is_judged_by_its_header_after_rights_and_pin() {
    let app = spawn_app_with(|_| {}).await;
    let bomb = png_claiming(20_000, 20_000);
    let copy = |key: String, pin: String| {
        let (app, bomb) = (&app, bomb.clone());
        async move {
            let form = Form::new()
                .text("commune", "99001")
                .text("signer", "99001-chair")
                .text("pin", pin)
                .part("file", Part::bytes(bomb).file_name("scan.png"));
            app.http
                .post(format!("{}/api/v1/certified-copies", app.address))
                .bearer_auth(key)
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let right = app.pki.pin("99001-chair");
    let viewer = app.api_key(Role::Viewer, None);
    let other = app.api_key(Role::Portal, Some("99002"));
    let start = Instant::now();
    let response = copy(viewer, right.clone()).await;
    assert_eq!(error_code(response, 403).await, "forbidden");
    let response = copy(other, right.clone()).await;
    assert_eq!(error_code(response, 403).await, "forbidden");
    let response = copy(app.admin_key.clone(), "000000".into()).await;
    assert_eq!(error_code(response, 403).await, "pin_wrong");
    let response = copy(app.admin_key.clone(), right).await;
    assert_eq!(error_code(response, 413).await, "image_too_large");
    // 400 million pixels were never decoded (that takes about 10 s and 4 GB).
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_healthy(&app).await;
}
