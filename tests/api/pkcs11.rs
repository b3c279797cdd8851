//! Signing with keys on a PKCS#11 token: SoftHSM2 with its own token folder, a key imported
//! and its dev-PKI certificate written beside it, the signer registered with `kyso signer add
//! --key pkcs11:…`, then signatures through `POST /api/v1/sign` checked by pdfsig, pyHanko,
//! qpdf and kyso's verifier.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{Duration, Utc};
use kyso::pki::dev::{self, Issued, KeyAlgorithm, Profile, SubjectSpec};
use openssl::nid::Nid;
use openssl::x509::X509;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{dev_pki, error_code, spawn_app_with, SignParams, TestApp};
use crate::rollout::{dev_ca, json_of, post_bytes};

/// Debian's `softhsm2` package.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const USER_PIN: &str = "246810";
const SO_PIN: &str = "13579135";

/// A token per key type, `kyso-rsa` and `kyso-ecdsa`, each with its key `ky-so` and that
/// key's certificate.
pub struct Tokens {
    pub rsa: X509,
    pub ecdsa: X509,
}

/// The SoftHSM2 tokens of this test process. The module reads `SOFTHSM2_CONF` and finds its
/// tokens when the process first initialises it, so all are made before any server starts.
pub fn tokens() -> &'static Tokens {
    static TOKENS: OnceLock<Tokens> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let dir = softhsm_dir();
        Tokens {
            rsa: token_with_key(&dir, "kyso-rsa", KeyAlgorithm::Rsa2048),
            ecdsa: token_with_key(&dir, "kyso-ecdsa", KeyAlgorithm::EcdsaP256),
        }
    })
}

/// A fresh SoftHSM2 token folder, named in `SOFTHSM2_CONF` for this process.
fn softhsm_dir() -> PathBuf {
    {
        assert!(
            Path::new(MODULE).is_file(),
            "{MODULE} missing: install Debian's softhsm2 (.ci/setup)"
        );
        let dir = std::env::temp_dir().join(format!("kyso-test-softhsm-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        std::env::set_var("SOFTHSM2_CONF", &conf);
        dir
    }
}

/// Runs `command`, which must succeed.
pub fn succeed(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e} (softhsm2 and opensc: .ci/setup)"));
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(program: &str, args: &[&str]) {
    succeed(Command::new(program).args(args));
}

/// A new token `token` holding a key of type `alg` labelled `object`, with a certificate for
/// it from the dev issuing CA beside it, as a CA hands a token to an official.
fn token_with_key(softhsm: &Path, token: &str, alg: KeyAlgorithm) -> X509 {
    let object = "ky-so";
    let dir = softhsm.join(token);
    std::fs::create_dir_all(&dir).unwrap();
    run(
        "softhsm2-util",
        &[
            "--init-token",
            "--free",
            "--label",
            token,
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ],
    );
    let leaf = chair_leaf(alg);
    let key = dir.join("key.pem");
    std::fs::write(&key, leaf.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let cert = dir.join("cert.der");
    std::fs::write(&cert, leaf.cert.to_der().unwrap()).unwrap();
    let (key, cert) = (key.to_str().unwrap(), cert.to_str().unwrap());
    run(
        "softhsm2-util",
        &[
            "--import", key, "--token", token, "--label", object, "--id", "01", "--pin", USER_PIN,
        ],
    );
    run(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            token,
            "--login",
            "--pin",
            USER_PIN,
            "--write-object",
            cert,
            "--type",
            "cert",
            "--label",
            object,
            "--id",
            "01",
        ],
    );
    // The key material stays on the token only.
    std::fs::remove_file(key).unwrap();
    leaf.cert
}

/// A new key and certificate from the dev issuing CA for the demo chair of commune 99001 (whom
/// the roll-out registry knows), as a CA issues one to an official.
pub fn chair_leaf(alg: KeyAlgorithm) -> Issued {
    // Issued to the demo chair of commune 99001, whom the roll-out registry knows.
    let pki = dev_pki();
    let chair = pki
        .manifest
        .path(&pki.dir, &pki.signer("99001-chair").certificate);
    let chair = X509::from_pem(&std::fs::read(chair).unwrap()).unwrap();
    let field = |nid: Nid| {
        let entry = chair.subject_name().entries_by_nid(nid).next().unwrap();
        String::from_utf8(entry.data().as_slice().to_vec()).unwrap()
    };
    let (name, organization, locality, uid) = (
        field(Nid::COMMONNAME),
        field(Nid::ORGANIZATIONNAME),
        field(Nid::LOCALITYNAME),
        field(Nid::USERID),
    );
    let now = Utc::now();
    dev::issue(
        &dev_ca(pki),
        &SubjectSpec {
            common_name: &name,
            organization: Some(&organization),
            locality: Some(&locality),
            uid: Some(&uid),
        },
        Profile::Signer,
        alg,
        now - Duration::days(1),
        now + Duration::days(30),
    )
    .unwrap()
}

/// Registers signer `id` of commune 99001 with `key_ref` through the CLI, and its certificate
/// in the roll-out registry.
async fn register(app: &TestApp, id: &str, cert: &X509, key_ref: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("cert.pem");
    std::fs::write(&pem, cert.to_pem().unwrap()).unwrap();
    succeed(
        Command::new(env!("CARGO_BIN_EXE_kyso"))
            .args(["signer", "add", "--id", id, "--commune", "99001"])
            .args(["--kind", "official", "--name", "Trần Văn Khoá"])
            .args([
                "--title",
                "Chủ tịch UBND",
                "--key",
                key_ref,
                "--certificate",
            ])
            .arg(&pem)
            .current_dir(dir.path())
            .env("KYSO_PKI__DEV_DIR", &dev_pki().dir)
            .env("KYSO_DATABASE_URL", &app.database_url),
    );
    let response = post_bytes(
        app,
        &app.admin_key,
        "/api/v1/certificates",
        cert.to_pem().unwrap(),
    )
    .await;
    json_of(response, 201).await;
}

fn with_pin<'a>(signer: &'a str, pin: &str) -> SignParams<'a> {
    SignParams {
        signer,
        pin: Some(pin.to_owned()),
        ..Default::default()
    }
}

/// The key on `token` signs through the API, alone and several requests at once; the output
/// passes every validator; a wrong PIN is kyso's `pin_wrong`, the right one still works after
/// it (the kept session logs in again), and five wrong ones lock the signer.
async fn signs_on_token(token: &str, cert: &X509) {
    let app = spawn_app_with(|s| s.pki.pkcs11_module = Some(MODULE.into())).await;
    let signer = format!("{token}-signer");
    register(
        &app,
        &signer,
        cert,
        &format!("pkcs11:token={token};object=ky-so;type=private"),
    )
    .await;
    let pdf = sample_pdf(XrefStyle::Classic);
    // The second signature is made on the session the first one logged in.
    for level in ["B-B", "B-T"] {
        let params = SignParams {
            level: Some(level),
            ..with_pin(&signer, USER_PIN)
        };
        let signed = app.signed(&pdf, params).await;
        app.assert_accepted(&signed, 1);
        let report = app.verify(&signed).await;
        assert_eq!(report["indication"], "TOTAL_PASSED", "{report}");
    }

    // Requests at once share the token's session; one with a wrong PIN among them may log it
    // out, and the others then log in again rather than fail. More requests than the PIN
    // window (5): the sixth waits for a claim to be given back, and the wrong PIN among them
    // counts once, whatever right ones are in flight.
    let wrong = || with_pin(&signer, "135790");
    let batch = (0..6).map(|i| {
        let params = if i == 3 {
            wrong()
        } else {
            with_pin(&signer, USER_PIN)
        };
        let pdf = &pdf;
        let app = &app;
        async move { (i, app.sign(pdf, params).await) }
    });
    for (i, response) in futures_util::future::join_all(batch).await {
        if i == 3 {
            assert_eq!(error_code(response, 403).await, "pin_wrong");
        } else {
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            app.assert_accepted(&body, 1);
        }
    }
    assert_eq!(
        error_code(app.sign(&pdf, wrong()).await, 403).await,
        "pin_wrong"
    );
    app.signed(&pdf, with_pin(&signer, USER_PIN)).await;
    for _ in 0..3 {
        assert_eq!(
            error_code(app.sign(&pdf, wrong()).await, 403).await,
            "pin_wrong"
        );
    }
    assert_eq!(
        error_code(app.sign(&pdf, with_pin(&signer, USER_PIN)).await, 423).await,
        "key_locked"
    );
    assert_eq!(app.signing_log_count(), 8);
}

#[tokio::test]
async fn rsa_key_on_a_token_signs() {
    signs_on_token("kyso-rsa", &tokens().rsa).await;
}

#[tokio::test]
async fn ecdsa_key_on_a_token_signs() {
    signs_on_token("kyso-ecdsa", &tokens().ecdsa).await;
}
