//! Typed settings: defaults in code, an optional TOML file, then `KYSO_*` environment
//! overrides (`KYSO_TSA__URL` for `tsa.url`). Unknown keys are errors. Without a file the
//! service runs in dev mode: it generates and trusts the dev PKI and says so loudly.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::pdf::certify::Placement;
use crate::pdf::read::Limits;
use crate::vocabulary::Position;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Dev mode: no config file was given. Set by `load`, not by the file.
    #[serde(skip)]
    pub dev_mode: bool,
    pub bind: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Base of the links printed on documents (`{public_base_url}/d/{code}`).
    pub public_base_url: String,
    pub max_upload_bytes: usize,
    pub pki: PkiSettings,
    pub tsa: TsaSettings,
    pub revocation: RevocationSettings,
    pub keys: KeySettings,
    pub rollout: RolloutSettings,
    pub documents: DocumentSettings,
    pub archive: ArchiveSettings,
    /// What reading one untrusted PDF may cost; reaching a limit is `pdf_too_complex`.
    pub pdf: Limits,
    pub security: SecuritySettings,
    /// Dev mode's demo data: `none`, `minimal` (the dev PKI's three invented communes, whose
    /// signers can sign) or `haiphong` (Hải Phòng's 114 real units in a roll-out under way).
    pub demo: DemoData,
    /// `POST /api/v1/verify/batch`: what one ZIP may hold (each entry within
    /// `max_upload_bytes`, as a single upload).
    pub batch: BatchSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// Entries (files and folders) of one ZIP.
    pub max_entries: usize,
    /// Bytes of all its entries once decompressed.
    pub max_uncompressed_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DemoData {
    None,
    Minimal,
    Haiphong,
}

/// Limits that keep one client from taking the service down, and the dashboard's sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// A request body (upload) must arrive whole within this many seconds.
    pub body_timeout_secs: u64,
    /// Verifications running at once; beyond, `503` with `Retry-After`.
    pub max_concurrent_verifications: usize,
    /// Pixels of one scanned image (width × height), read from its header before decoding.
    pub max_image_pixels: u64,
    /// Lifetime of a dashboard sign-in.
    pub session_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiSettings {
    /// Where `kyso pki dev-init` writes the development PKI.
    pub dev_dir: PathBuf,
    /// Trust anchors (`*.pem`).
    pub trust_dir: PathBuf,
    /// Intermediate CA certificates (`*.pem`) that complete chains of signatures carrying
    /// only the signer's certificate; not trusted themselves.
    pub intermediates_dir: PathBuf,
    /// Certificate revocation lists (DER or PEM).
    pub crl_dir: PathBuf,
    /// Where relative `pkcs12:` key references are resolved.
    pub key_dir: PathBuf,
    /// The PKCS#11 module (a shared library) that opens the tokens `pkcs11:` key references
    /// name, e.g. `/usr/lib/softhsm/libsofthsm2.so` or a token vendor's driver.
    pub pkcs11_module: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaSettings {
    /// RFC 3161 service used for PAdES B-T. In dev mode it defaults to kyso's own `/tsa`.
    pub url: Option<String>,
    pub timeout_secs: u64,
    /// Serve `POST /tsa` with this PKCS#12 key (in dev mode: the dev TSA).
    pub pkcs12: Option<PathBuf>,
    /// … or with this key on a token (`pkcs11:token=…;object=…`, see `pki.pkcs11_module`).
    pub key: Option<String>,
    #[serde(skip_serializing)]
    pub pin: Option<SecretString>,
    /// Serve `POST /tsa` without an API key.
    pub public: bool,
    /// `POST /tsa` answers at most this many requests per second (per instance), with bursts
    /// up to `burst`.
    pub rate_per_second: f64,
    pub burst: f64,
}

/// Revocation data and issuer certificates from the certificates' own URLs (OCSP and
/// caIssuers from the AIA, CRLs from the distribution points), before the files in
/// `pki.crl_dir`; and `POST /ocsp`, `GET /crl/{ca}.crl` for the dev CAs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationSettings {
    /// Off: nothing is fetched, only the files are used.
    pub fetch: bool,
    pub timeout_secs: u64,
    /// The most one answer (a CRL, most likely) may weigh.
    pub max_response_bytes: u64,
    /// `POST /ocsp` and `GET /crl/…` answer at most this many requests per second (per
    /// instance), with bursts up to `burst`.
    pub rate_per_second: f64,
    pub burst: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    /// Wrong PINs in a row that lock a key.
    pub max_failed_pins: i32,
    pub lock_minutes: i64,
    /// How long a two-step signing session waits for its signature (`POST
    /// /api/v1/signing-sessions`); a document's number taken for it is void after that.
    pub signing_session_minutes: i64,
    /// How long a PKCS#12 key stays unlocked in memory after its PIN opened it, as a token
    /// keeps its login: later PINs are checked against a salted verifier rather than the
    /// file's slow key derivation, and still claimed and counted. 0: every PIN opens the file.
    pub unlocked_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutSettings {
    /// Positions whose holders need a certificate before a commune counts as ready to sign.
    pub required_positions: Vec<Position>,
    /// Working days (Monday to Friday) the CA may hold a request before it is overdue.
    pub service_days: u32,
    /// Public holidays (`YYYY-MM-DD`) that are not working days either; Tết moves every year.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Certificates expiring within each of these many days are counted separately.
    pub expiry_warning_days: Vec<u32>,
    /// Signatures are counted over this many past days.
    pub signature_window_days: u32,
}

/// Issued documents. The certification wording and book formats come from practice, not from
/// the legal text (DOMAIN.md, "to confirm"), so they are settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// Where issued PDFs are kept: `files` (under `data_dir/documents`) or `database` (for
    /// several instances sharing one PostgreSQL).
    pub store: BlobStoreKind,
    /// The certification statement of a copy: an added `page` or a `stamp` on the last page.
    pub certification: Placement,
    pub copy_statement: String,
    pub certifier_heading: String,
    /// Certified copies' book label; `{year}` is replaced.
    pub copy_book: String,
    /// Certified copies' number as printed; `{n}` is replaced.
    pub copy_number: String,
}

/// Keeping issued documents verifiable (PAdES B-LTA): a new document timestamp before the
/// newest one's authority certificate expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSettings {
    /// `serve` refreshes the stored documents on its own, every `interval_hours`.
    pub refresh: bool,
    pub interval_hours: u64,
    /// A document is refreshed when its newest timestamp's TSA certificate expires within
    /// this many days.
    pub refresh_days_before_expiry: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    Files,
    Database,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dev_mode: true,
            bind: "127.0.0.1:8080".into(),
            data_dir: "data".into(),
            database_url: "sqlite://data/kyso.db".into(),
            public_base_url: "http://127.0.0.1:8080".into(),
            max_upload_bytes: 64 * 1024 * 1024,
            pki: PkiSettings {
                dev_dir: "certs/dev".into(),
                trust_dir: "certs/trust".into(),
                intermediates_dir: "certs/intermediates".into(),
                crl_dir: "certs/crl".into(),
                key_dir: ".".into(),
                pkcs11_module: None,
            },
            tsa: TsaSettings {
                url: None,
                timeout_secs: 10,
                pkcs12: None,
                key: None,
                pin: None,
                public: false,
                rate_per_second: 20.0,
                burst: 40.0,
            },
            revocation: RevocationSettings {
                fetch: true,
                timeout_secs: 10,
                max_response_bytes: 16 * 1024 * 1024,
                rate_per_second: 50.0,
                burst: 100.0,
            },
            keys: KeySettings {
                max_failed_pins: 5,
                lock_minutes: 15,
                signing_session_minutes: 10,
                unlocked_seconds: 60,
            },
            rollout: RolloutSettings {
                required_positions: vec![
                    Position::Chair,
                    Position::ViceChair,
                    Position::CivilStatus,
                    Position::Agency,
                ],
                service_days: 3,
                holidays: Vec::new(),
                expiry_warning_days: vec![30, 60],
                signature_window_days: 30,
            },
            documents: DocumentSettings {
                store: BlobStoreKind::Files,
                certification: Placement::Page,
                copy_statement: "Chứng thực bản sao đúng với bản chính".into(),
                certifier_heading: "Người thực hiện chứng thực".into(),
                copy_book: "{year}-SCTĐT/BS".into(),
                copy_number: "{n}/ĐT".into(),
            },
            archive: ArchiveSettings {
                refresh: true,
                interval_hours: 24,
                refresh_days_before_expiry: 90,
            },
            security: SecuritySettings {
                body_timeout_secs: 60,
                max_concurrent_verifications: 4,
                // A4 at 600 dpi is 4 960 × 7 016 ≈ 34.8 million.
                max_image_pixels: 36_000_000,
                session_minutes: 8 * 60,
            },
            pdf: Limits::default(),
            demo: DemoData::Minimal,
            batch: BatchSettings {
                max_entries: 1000,
                max_uncompressed_bytes: 512 * 1024 * 1024,
            },
        }
    }
}

impl Settings {
    /// Defaults, then the file (if any: it also switches to production mode), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Error::config(format!("{} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        let env = Env::prefixed("KYSO_")
            .split("__")
            // Not settings: the config file's path and the test suite's database server.
            // (Keys keep the environment's case: compare without it.)
            .filter(|key| {
                key != "config" && !key.as_str().to_ascii_lowercase().starts_with("test_")
            });
        let mut settings: Settings = figment
            .merge(env)
            .extract()
            .map_err(|e| Error::config(e.to_string()))?;
        settings.dev_mode = file.is_none();
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dev_mode_on_sqlite() {
        let s = Settings::default();
        assert!(s.dev_mode);
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://data/kyso.db");
        assert_eq!(s.max_upload_bytes, 64 << 20);
    }

    #[test]
    fn file_switches_to_production_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "bind = \"0.0.0.0:9000\"\n[tsa]\nurl = \"http://tsa\"\npin = \"1234\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&good)).unwrap();
        assert!(!s.dev_mode);
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.tsa.url.as_deref(), Some("http://tsa"));
        // The PIN never prints.
        assert!(!format!("{s:?}").contains("1234"));

        let rollout = dir.path().join("rollout.toml");
        std::fs::write(
            &rollout,
            "[rollout]\nrequired_positions = [\"chair\", \"agency\"]\nholidays = [\"2027-02-05\"]\n",
        )
        .unwrap();
        let s = Settings::load(Some(&rollout)).unwrap();
        assert_eq!(
            s.rollout.required_positions,
            [Position::Chair, Position::Agency]
        );
        assert_eq!(s.rollout.holidays[0].to_string(), "2027-02-05");
        assert_eq!(s.rollout.service_days, 3);

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "bnid = \"x\"\n").unwrap();
        assert!(matches!(
            Settings::load(Some(&bad)),
            Err(Error::Core(kyso_core::Error::Config(_)))
        ));
    }
}
