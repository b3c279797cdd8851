//! Where signing keys live. A key is named by a reference string stored with its signer
//! (`pkcs12:<path>`, or an RFC 7512 `pkcs11:` URI for a token). The PIN comes with each
//! request, unlocks the key for that one signature and is dropped with it.

use std::path::PathBuf;

use openssl::pkcs12::Pkcs12;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::pki::cms::SigningKey;
use crate::pki::pkcs11::{KeyUri, Pkcs11Tokens};

pub trait KeyStore: Send + Sync {
    /// Unlocks the key named by `key_ref`. A wrong PIN is `Error::WrongPin`.
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey>;
}

/// The key stores of this instance, chosen by the reference's scheme.
pub struct KeyStores {
    pub pkcs12: Pkcs12Files,
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
                    .collect()
            })
            .unwrap_or_default();
        Ok(SigningKey {
            key: Box::new(key),
            certificate,
            chain,
        })
    }
}
