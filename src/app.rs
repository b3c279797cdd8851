//! Assembles the service's state from settings: database, keys, trust data, TSA (`server`
//! then binds it to a port; port 0 picks a free one, which tests use).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::error::{Error, Result};
use crate::fetch::HttpFetch;
use crate::metrics::Metrics;
use crate::pki::dev::{self, Manifest};
use crate::pki::fetch::Fetch;
use crate::pki::keystore::{KeyStore, KeyStores, Pkcs12Files, UnlockedKeys};
use crate::pki::ocsp::Responder;
use crate::pki::pkcs11::Pkcs11Tokens;
use crate::pki::revocation::{RevocationLists, RevocationSource};
use crate::pki::trust::TrustStore;
use crate::pki::tsa::{HttpTimestamper, TimestampAuthority, Timestamper};
use crate::pki::Certificate;
use crate::rate::TokenBucket;
use crate::signers;
use crate::signing::Signing;

/// Everything a request handler may use; shared read-only between workers.
pub struct AppState {
    pub settings: Settings,
    pub pool: Pool,
    pub keys: KeyStores,
    pub revocation: RevocationSource,
    pub trust: TrustStore,
    /// kyso's own RFC 3161 authority behind `POST /tsa`, when it has a key.
    pub tsa: Option<Arc<TimestampAuthority>>,
    /// The authority PAdES B-T asks: `tsa.url` when set, else kyso's own, in process.
    pub timestamper: Option<Arc<dyn Timestamper>>,
    /// Slots for verifications running at once (`security.max_concurrent_verifications`).
    pub verifications: Arc<tokio::sync::Semaphore>,
    /// `POST /tsa`'s rate limit.
    pub tsa_bucket: TokenBucket,
    /// `POST /ocsp` answers for these CAs (the dev PKI's) …
    pub ocsp: Vec<Responder>,
    /// … and `/crl/{name}.crl`, `/ca/{name}.crt` publish theirs.
    pub cas: Vec<(String, Certificate)>,
    /// The rate limit of those routes.
    pub revocation_bucket: TokenBucket,
    pub metrics: Metrics,
    /// The signing log's group-commit writer.
    pub signing_log: crate::signing_log::SigningLog,
    /// Where PIN attempts are claimed (`db::relaxed`) …
    pub claims_pool: Option<Pool>,
    /// … and what wakes the claims waiting for one.
    pub claim_releases: signers::ClaimReleases,
}

impl AppState {
    /// Validation against this instance's trust anchors and CRLs, as of now.
    pub fn verification(&self) -> crate::pdf::verify::Context<'_> {
        crate::pdf::verify::Context::now(&self.trust, &self.revocation, self.settings.pdf)
    }

    pub fn signing(&self) -> Signing<'_> {
        Signing {
            keys: &self.keys,
            revocation: &self.revocation,
            trust: &self.trust,
            timestamper: self.timestamper.as_deref(),
            max_failed_pins: self.settings.keys.max_failed_pins,
            lock: chrono::Duration::minutes(self.settings.keys.lock_minutes),
            limits: self.settings.pdf,
            metrics: &self.metrics,
            log: &self.signing_log,
            claims: self.claims_pool.as_ref(),
            releases: &self.claim_releases,
        }
    }
}

impl AppState {
    /// Two-step signing, sessions kept in the database.
    pub fn signing_sessions(&self) -> crate::signing_sessions::Sessions<'_> {
        crate::signing_sessions::Sessions {
            signing: self.signing(),
            lifetime: chrono::Duration::minutes(self.settings.keys.signing_session_minutes),
            store: crate::blobs::from_settings(&self.settings),
        }
    }
}

/// What a person starting `serve` needs to know: where to go, which mode, how to get a key.
/// `kyso`: the command that runs this binary with the same configuration, as a person would
/// paste it (e.g. `target/release/kyso --config kyso.toml`).
pub fn announcement(port: u16, dev: bool, kyso: &str) -> String {
    let base = format!("http://127.0.0.1:{port}");
    let mode = if dev {
        "dev mode (no --config: dev PKI in certs/dev, test certificates only)"
    } else {
        "production mode"
    };
    format!(
        "\nkyso is running in {mode}.\n  \
         Check a signed PDF:    {base}/verify\n  \
         Certificate roll-out:  {base}/rollout\n  \
         API:                   {base}/api/v1/ (verify needs no key)\n  \
         API reference:         {base}/docs  ({base}/openapi.json)\n  \
         Metrics, health:       {base}/metrics  {base}/healthz\n\
         Create an API key (printed once):\n  \
         {kyso} apikey create --role admin   # or --role portal --commune CODE, or --role viewer\n"
    )
}

/// The state behind the server; public so the CLI's offline commands share it.
pub fn prepare(settings: Settings) -> Result<AppState> {
    // Whatever an older version or an administrator left world-readable is tightened first.
    for dir in [
        &settings.data_dir,
        &settings.pki.dev_dir,
        &settings.pki.crl_dir,
    ] {
        crate::private_files::restrict_tree(dir)
            .map_err(|e| Error::config(format!("{}: {e}", dir.display())))?;
    }
    let pool = db::connect(&settings.database_url)?;
    let mut conn = db::get(&pool)?;
    let mut trust_files = TrustFiles::load(&settings)?;
    let mut published = Published::default();
    let tsa_key = if settings.dev_mode {
        tracing::warn!(
            "DEV MODE: no config file given. Using the dev-only PKI in {} — never for real documents",
            settings.pki.dev_dir.display()
        );
        let dir = settings.pki.dev_dir.clone();
        let manifest = dev::ensure(&dir, Some(&settings.public_base_url))?;
        trust_files.add_dev(&dir, &manifest)?;
        published = Published::dev(&dir, &manifest)?;
        crate::signers::load_demo(
            &mut conn,
            settings.demo,
            &dir,
            &manifest,
            &TrustStore::new(trust_files.anchors.clone()),
        )?;
        Some(dev_tsa_key(&dir, &manifest)?)
    } else {
        let dev = signers::count_dev(&mut conn)?;
        if dev > 0 {
            return Err(Error::config(format!(
                "production mode refuses the dev PKI: {dev} dev signers are registered in this database"
            )));
        }
        None
    };
    let metrics = Metrics::new()?;
    let revocation = RevocationSource::new(
        trust_files.revocation()?,
        revocation_fetch(&settings, &metrics)?,
    );
    let trust = TrustStore::new(trust_files.anchors)
        .with_intermediates(TrustStore::load_dir(&settings.pki.intermediates_dir)?);
    let keys = KeyStores {
        pkcs12: UnlockedKeys::new(
            Pkcs12Files {
                base_dir: settings.pki.key_dir.clone(),
            },
            Duration::from_secs(settings.keys.unlocked_seconds),
        ),
        pkcs11: settings
            .pki
            .pkcs11_module
            .as_deref()
            .map(|module| Pkcs11Tokens::load(module, trust.clone()))
            .transpose()?,
    };
    // The TSA key of production: a PKCS#12 file or a key on a token, with its PIN.
    let tsa_ref = match (&settings.tsa.key, &settings.tsa.pkcs12) {
        (Some(_), Some(_)) => {
            return Err(Error::config("tsa.key and tsa.pkcs12 exclude each other"))
        }
        (Some(uri), None) => Some(uri.clone()),
        (None, Some(path)) => Some(Pkcs12Files::key_ref(path)),
        (None, None) => None,
    };
    let tsa_key = match (tsa_key, tsa_ref, &settings.tsa.pin) {
        (Some(dev), _, _) => Some(dev),
        (None, Some(key_ref), Some(pin)) => Some(
            keys.unlock(&key_ref, pin)
                .map_err(|e| Error::config(format!("TSA key: {e}")))?,
        ),
        _ => None,
    };
    let retrusted = crate::rollout::certificates::retrust(&mut conn, &trust)?;
    if retrusted > 0 {
        tracing::info!(
            retrusted,
            "registered certificates now chain to a trust anchor"
        );
    }
    drop(conn);
    let tsa = tsa_key.map(|key| Arc::new(TimestampAuthority::new(key)));
    let timestamper: Option<Arc<dyn Timestamper>> = match &settings.tsa.url {
        Some(url) => Some(Arc::new(HttpTimestamper {
            url: url.clone(),
            fetch: Arc::new(HttpFetch::new(
                Duration::from_secs(settings.tsa.timeout_secs),
                settings.revocation.max_response_bytes,
                metrics.fetches(),
            )),
        })),
        None => tsa.clone().map(|tsa| tsa as Arc<dyn Timestamper>),
    };
    Ok(AppState {
        verifications: Arc::new(tokio::sync::Semaphore::new(
            settings.security.max_concurrent_verifications.max(1),
        )),
        tsa_bucket: TokenBucket::new(settings.tsa.rate_per_second, settings.tsa.burst),
        revocation_bucket: TokenBucket::new(
            settings.revocation.rate_per_second,
            settings.revocation.burst,
        ),
        ocsp: published.responders,
        cas: published.cas,
        metrics,
        signing_log: crate::signing_log::SigningLog::start(db::dedicated(&settings.database_url)?)?,
        claims_pool: db::relaxed(&settings.database_url)?,
        claim_releases: signers::ClaimReleases::default(),
        revocation,
        trust,
        keys,
        tsa,
        timestamper,
        pool,
        settings,
    })
}

/// The CAs kyso publishes status and certificates for: the dev PKI's, in dev mode.
#[derive(Default)]
struct Published {
    responders: Vec<Responder>,
    cas: Vec<(String, Certificate)>,
}

impl Published {
    fn dev(dir: &Path, manifest: &Manifest) -> Result<Self> {
        let mut cas = Vec::new();
        for (name, pem) in [
            (dev::ROOT_NAME, &manifest.root),
            (dev::ISSUING_NAME, &manifest.issuing_ca),
        ] {
            cas.push((name.to_owned(), dev_ca(dir, manifest, pem)?));
        }
        let name = |n: &openssl::x509::X509NameRef| n.to_der().ok();
        let responders = manifest
            .ocsp_responders(dir)?
            .into_iter()
            .filter_map(|signer| {
                let (_, ca) = cas.iter().find(|(_, ca)| {
                    name(ca.x509().subject_name()) == name(signer.cert.issuer_name())
                })?;
                Some(Responder {
                    ca: ca.clone(),
                    signer,
                })
            })
            .collect();
        Ok(Published { responders, cas })
    }
}

/// The transport revocation data and issuer certificates are fetched with, unless
/// `revocation.fetch` is off.
fn revocation_fetch(settings: &Settings, metrics: &Metrics) -> Result<Option<Arc<dyn Fetch>>> {
    if !settings.revocation.fetch {
        return Ok(None);
    }
    Ok(Some(Arc::new(HttpFetch::new(
        Duration::from_secs(settings.revocation.timeout_secs),
        settings.revocation.max_response_bytes,
        metrics.fetches(),
    ))))
}

/// What validation trusts, read from files only: the anchors in `pki.trust_dir` and the CRLs in
/// `pki.crl_dir`, plus the dev root and its CRLs in dev mode.
struct TrustFiles {
    anchors: Vec<Certificate>,
    crl_dirs: Vec<PathBuf>,
}

impl TrustFiles {
    fn load(settings: &Settings) -> Result<Self> {
        Ok(TrustFiles {
            anchors: TrustStore::load_dir(&settings.pki.trust_dir)?,
            crl_dirs: vec![settings.pki.crl_dir.clone()],
        })
    }

    /// The dev root, and its issuing CA so that CRL uploads signed by it are recognised.
    fn add_dev(&mut self, dir: &Path, manifest: &Manifest) -> Result<()> {
        for ca in [&manifest.root, &manifest.issuing_ca] {
            self.anchors.push(dev_ca(dir, manifest, ca)?);
        }
        if let Some(crl_dir) = manifest.path(dir, &manifest.crl).parent() {
            self.crl_dirs.push(crl_dir.to_path_buf());
        }
        Ok(())
    }

    fn revocation(&self) -> Result<RevocationLists> {
        let dirs: Vec<&Path> = self.crl_dirs.iter().map(PathBuf::as_path).collect();
        Ok(RevocationLists::load(&dirs)?)
    }
}

/// What an offline verification needs, and nothing more: `kyso verify` opens no database,
/// runs no migration and writes nothing (not even the dev PKI: without one, nothing chains to
/// it).
pub struct Verifier {
    trust: TrustStore,
    revocation: RevocationSource,
    limits: crate::pdf::read::Limits,
}

impl Verifier {
    pub fn load(settings: &Settings) -> Result<Self> {
        let mut files = TrustFiles::load(settings)?;
        let dir = &settings.pki.dev_dir;
        if settings.dev_mode && dir.join(dev::MANIFEST).is_file() {
            files.add_dev(dir, &Manifest::load(dir)?)?;
        }
        // The CLI serves no metrics: its fetches are measured into a registry nobody reads.
        let fetch = revocation_fetch(settings, &Metrics::new()?)?;
        Ok(Verifier {
            revocation: RevocationSource::new(files.revocation()?, fetch),
            trust: TrustStore::new(files.anchors)
                .with_intermediates(TrustStore::load_dir(&settings.pki.intermediates_dir)?),
            limits: settings.pdf,
        })
    }

    /// Validation as of now.
    pub fn context(&self) -> crate::pdf::verify::Context<'_> {
        crate::pdf::verify::Context::now(&self.trust, &self.revocation, self.limits)
    }
}

/// A dev CA's certificate, `pem` in the manifest.
fn dev_ca(dir: &Path, manifest: &Manifest, pem: &Path) -> Result<Certificate> {
    let text = std::fs::read(manifest.path(dir, pem))
        .map_err(|e| Error::config(format!("dev CA {}: {e}", pem.display())))?;
    Certificate::from_pem(&text)
        .ok_or_else(|| Error::config(format!("dev CA {}: no certificate", pem.display())))
}

fn dev_tsa_key(dir: &Path, manifest: &Manifest) -> Result<crate::pki::cms::SigningKey> {
    let pin = secrecy::SecretString::from(manifest.tsa.pin.clone());
    let key_ref = Pkcs12Files::key_ref(&manifest.path(dir, &manifest.tsa.pkcs12));
    Ok(Pkcs12Files {
        base_dir: ".".into(),
    }
    .unlock(&key_ref, &pin)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_announcement_names_pages_mode_and_key_command() {
        let dev = super::announcement(8080, true, "target/release/kyso");
        for part in [
            "dev mode",
            "http://127.0.0.1:8080/verify",
            "http://127.0.0.1:8080/rollout",
            "http://127.0.0.1:8080/docs",
            "target/release/kyso apikey create --role admin",
        ] {
            assert!(dev.contains(part), "{part}: {dev}");
        }
        let production = super::announcement(9000, false, "kyso --config /etc/kyso.toml");
        assert!(production.contains("production mode"), "{production}");
        assert!(production.contains("kyso --config /etc/kyso.toml apikey create"));
    }
}
