//! Where signing keys live. A key is named by a reference string stored with its signer
//! (`pkcs12:<path>`, or an RFC 7512 `pkcs11:` URI for a token). The PIN comes with each
//! request; a PKCS#12 key it opened stays unlocked in memory for a short while
//! ([`UnlockedKeys`]), and the PIN is dropped with the request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::memcmp;
use openssl::pkcs12::Pkcs12;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::pki::cms::{RawSigner, SigningKey};
use crate::pki::pkcs11::{KeyUri, Pkcs11Tokens};
use crate::pki::Certificate;

pub trait KeyStore: Send + Sync {
    /// Unlocks the key named by `key_ref`. A wrong PIN is `Error::WrongPin`.
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey>;

    /// The key named by `key_ref` when it is held unlocked and `pin` is the PIN that opened
    /// it; `None` for any other PIN and for a key not held, which `unlock` must then try (as
    /// an attempt the caller counts). Opens nothing and never says a PIN is wrong.
    fn unlocked(&self, _key_ref: &str, _pin: &SecretString) -> Option<SigningKey> {
        None
    }
}

/// The key stores of this instance, chosen by the reference's scheme.
pub struct KeyStores {
    pub pkcs12: UnlockedKeys,
    /// Present when `pki.pkcs11_module` is set.
    pub pkcs11: Option<Pkcs11Tokens>,
}

impl KeyStore for KeyStores {
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey> {
        if !key_ref.starts_with(KeyUri::SCHEME) {
            return self.pkcs12.unlock(key_ref, pin);
        }
        self.pkcs11
            .as_ref()
            .ok_or_else(|| {
                Error::Config("a PKCS#11 key needs `pki.pkcs11_module` in the settings".into())
            })?
            .unlock(key_ref, pin)
    }

    fn unlocked(&self, key_ref: &str, pin: &SecretString) -> Option<SigningKey> {
        // A token keeps its own login; only PKCS#12 keys are held here.
        (!key_ref.starts_with(KeyUri::SCHEME))
            .then(|| self.pkcs12.unlocked(key_ref, pin))
            .flatten()
    }
}

/// PKCS#12 files; relative paths are resolved against `base_dir`.
pub struct Pkcs12Files {
    pub base_dir: PathBuf,
}

impl Pkcs12Files {
    pub const SCHEME: &'static str = "pkcs12:";

    pub fn key_ref(path: &std::path::Path) -> String {
        format!("{}{}", Self::SCHEME, path.display())
    }
}

impl KeyStore for Pkcs12Files {
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey> {
        let path = key_ref
            .strip_prefix(Self::SCHEME)
            .map(|p| self.base_dir.join(p))
            .ok_or_else(|| Error::Config(format!("unsupported key reference `{key_ref}`")))?;
        let der = std::fs::read(&path)
            .map_err(|e| Error::Config(format!("key file {}: {e}", path.display())))?;
        let pkcs12 = Pkcs12::from_der(&der)
            .map_err(|_| Error::Config(format!("key file {} is not PKCS#12", path.display())))?;
        // The file is well-formed, so a failure to open it is the MAC check: a wrong PIN.
        let parsed = pkcs12
            .parse2(pin.expose_secret())
            .map_err(|_| Error::WrongPin)?;
        let (Some(key), Some(certificate)) = (parsed.pkey, parsed.cert) else {
            return Err(Error::Config(format!(
                "key file {} lacks a key or certificate",
                path.display()
            )));
        };
        let chain = parsed
            .ca
            .map(|stack| {
                stack
                    .into_iter()
                    // The root is the trust anchor the verifier already has; PAdES leaves it out.
                    .filter(|ca| ca.subject_name_hash() != ca.issuer_name_hash())
                    .map(Certificate::from_x509)
                    .collect()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(SigningKey {
            key: Box::new(key),
            certificate: Certificate::from_x509(certificate)?,
            chain,
        })
    }
}

/// PKCS#12 keys kept unlocked in memory for `keep` after a PIN opened them, as a token keeps its
/// login: within that time a PIN is checked against a salted verifier (SHA-256 of a random salt of
/// the entry and the PIN, compared in constant time) instead of the PBKDF2 of the file (≈ 2 ms).
/// The caller claims an attempt before each PIN it tries with `unlock` and counts a wrong one;
/// `unlocked` answers only the right PIN of a held key, which nothing counts. An entry is dropped
/// when it expires (a sweeper looks every second); OpenSSL clears the private key's numbers when it
/// frees them (`BN_clear_free`).
pub struct UnlockedKeys {
    files: Pkcs12Files,
    keep: Duration,
    entries: Arc<Mutex<HashMap<String, Unlocked>>>,
}

struct Unlocked {
    key: Arc<dyn RawSigner>,
    certificate: Certificate,
    chain: Vec<Certificate>,
    salt: [u8; 32],
    verifier: [u8; 32],
    until: Instant,
}

/// SHA-256 of the entry's random salt and the PIN. Only compared, in memory, with what the
/// same process computed: a keyed MAC adds nothing here, and the plain digest skips OpenSSL's
/// per-call key and context set-up (≈ 2 % of a signature's CPU).
fn verifier(salt: &[u8], pin: &SecretString) -> [u8; 32] {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(salt);
    hasher.update(pin.expose_secret().as_bytes());
    hasher.finish()
}

impl UnlockedKeys {
    /// `keep` zero: every PIN opens the file again.
    pub fn new(files: Pkcs12Files, keep: Duration) -> Self {
        let entries: Arc<Mutex<HashMap<String, Unlocked>>> = Arc::default();
        if !keep.is_zero() {
            let weak = Arc::downgrade(&entries);
            // Ends with the key store (the map is gone when its last owner drops it).
            let _ = std::thread::Builder::new()
                .name("unlocked-keys".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let Some(entries) = weak.upgrade() else { break };
                    let now = Instant::now();
                    lock(&entries).retain(|_, e| e.until > now);
                });
        }
        UnlockedKeys {
            files,
            keep,
            entries,
        }
    }
}

fn lock(
    entries: &Mutex<HashMap<String, Unlocked>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Unlocked>> {
    // A panic while holding the map leaves it consistent (inserts and removals only).
    entries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl UnlockedKeys {
    /// The live entry of `key_ref`, and whether `pin` is the one that opened it.
    fn held(&self, key_ref: &str, pin: &SecretString) -> Option<(SigningKey, bool)> {
        let (key, salt, expected) = lock(&self.entries)
            .get(key_ref)
            .filter(|e| e.until > Instant::now())
            .map(|e| (e.shared(), e.salt, e.verifier))?;
        Some((key, memcmp::eq(&verifier(&salt, pin), &expected)))
    }
}

impl KeyStore for UnlockedKeys {
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey> {
        if self.keep.is_zero() {
            return self.files.unlock(key_ref, pin);
        }
        match self.held(key_ref, pin) {
            Some((key, true)) => return Ok(key),
            Some((_, false)) => return Err(Error::WrongPin),
            None => {}
        }
        let key = self.files.unlock(key_ref, pin)?;
        let mut salt = [0u8; 32];
        openssl::rand::rand_bytes(&mut salt).map_err(Error::internal)?;
        let entry = Unlocked {
            key: Arc::from(key.key),
            certificate: key.certificate,
            chain: key.chain,
            salt,
            verifier: verifier(&salt, pin),
            until: Instant::now() + self.keep,
        };
        let key = entry.shared();
        lock(&self.entries).insert(key_ref.to_owned(), entry);
        Ok(key)
    }

    fn unlocked(&self, key_ref: &str, pin: &SecretString) -> Option<SigningKey> {
        match self.held(key_ref, pin) {
            Some((key, true)) => Some(key),
            _ => None,
        }
    }
}

impl Unlocked {
    fn shared(&self) -> SigningKey {
        SigningKey {
            key: Box::new(self.key.clone()),
            certificate: self.certificate.clone(),
            chain: self.chain.clone(),
        }
    }
}
