//! Keys on PKCS#11 tokens and HSMs, named by RFC 7512 URIs (`pkcs11:token=…;object=…`).
//!
//! The key never leaves the token: kyso hands it the data and gets the signature back. The
//! request's PIN is the token's user PIN. One logged-in session per token is kept and reused,
//! so a signature costs one `C_Sign`; a request whose PIN differs from the one that logged the
//! session in logs it out and in again, so every PIN is checked by the token itself. Only a
//! keyed digest of the logged-in PIN is kept, to recognise it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::Utc;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::pki::certificate::Certificate;
use crate::pki::cms::{sha256, RawSigner, SigningKey};
use crate::pki::keystore::KeyStore;
use crate::pki::trust::TrustStore;

/// A key's place: the token's label and the label its private key and certificate share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyUri {
    pub token: String,
    pub object: String,
}

impl KeyUri {
    pub const SCHEME: &'static str = "pkcs11:";

    /// Parses the path of an RFC 7512 URI (§2.3). `token` and `object` are required; `type`
    /// may only be `private`; a query (`?pin-value=…`, `module-path=…`) is refused, since the
    /// PIN comes with each request and the module from the settings. Other attributes are
    /// refused rather than ignored, so a URI never silently names a different key.
    pub fn parse(uri: &str) -> Result<KeyUri> {
        let bad = |why: &str| Error::InvalidInput(format!("PKCS#11 URI: {why}"));
        let path = uri
            .strip_prefix(Self::SCHEME)
            .ok_or_else(|| bad("must begin with `pkcs11:`"))?;
        if path.contains('?') {
            return Err(bad("query attributes are not accepted"));
        }
        let (mut token, mut object) = (None, None);
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| bad("an attribute lacks `=`"))?;
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| bad("an attribute is not UTF-8"))?
                .into_owned();
            match name {
                "token" => token = Some(value),
                "object" => object = Some(value),
                "type" if value == "private" => {}
                _ => return Err(bad(&format!("attribute `{name}` is not supported"))),
            }
        }
        match (token, object) {
            (Some(token), Some(object)) => Ok(KeyUri { token, object }),
            _ => Err(bad("`token` and `object` are required")),
        }
    }
}

/// The tokens of one PKCS#11 module, with the CA certificates that complete a token
/// certificate's chain (the trust anchors).
pub struct Pkcs11Tokens {
    module: Arc<Module>,
    trust: TrustStore,
}

/// A loaded module and the sessions kept on its tokens. A module is initialised once per
/// process (PKCS#11 §5.4 C_Initialize) and a token's login state is shared by all of the
/// process's sessions, so both live in one process-wide registry keyed by the module's path.
struct Module {
    context: Pkcs11,
    /// Random per process: the HMAC key of PIN tags.
    pin_key: PKey<Private>,
    tokens: Mutex<HashMap<String, Arc<Mutex<TokenSession>>>>,
}

/// The session kept open on one token, and what it has found there.
struct TokenSession {
    session: Session,
    /// The tag of the PIN the session is logged in with, so that a later request with the
    /// same PIN need not log in again; the PIN itself is not kept.
    logged_in: Option<Vec<u8>>,
    /// Keys found under the current login, by label.
    keys: HashMap<String, TokenKeyInfo>,
}

#[derive(Clone)]
struct TokenKeyInfo {
    handle: ObjectHandle,
    mechanism: KeyMechanism,
    certificate: Certificate,
}

#[derive(Clone, Copy)]
enum KeyMechanism {
    /// CKM_SHA256_RSA_PKCS: the token hashes and pads (RSASSA-PKCS1-v1_5).
    RsaSha256,
    /// CKM_ECDSA over a SHA-256 digest computed here; the token answers `r||s`.
    Ecdsa,
}

fn module(path: &Path) -> Result<Arc<Module>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = OnceLock::new();
    let mut modules = lock(MODULES.get_or_init(Default::default))?;
    if let Some(module) = modules.get(path) {
        return Ok(module.clone());
    }
    let failed = |e: CkError| Error::Config(format!("PKCS#11 module {}: {e}", path.display()));
    let context = Pkcs11::new(path).map_err(failed)?;
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(failed)?;
    let mut pin_key = [0u8; 32];
    openssl::rand::rand_bytes(&mut pin_key).map_err(Error::internal)?;
    let module = Arc::new(Module {
        context,
        pin_key: PKey::hmac(&pin_key).map_err(Error::internal)?,
        tokens: Mutex::new(HashMap::new()),
    });
    modules.insert(path.to_owned(), module.clone());
    Ok(module)
}

impl Module {
    /// HMAC-SHA256 of `pin` under the process's key: tells whether a request brings the PIN
    /// a session is logged in with, and reveals nothing of it.
    fn pin_tag(&self, pin: &SecretString) -> Result<Vec<u8>> {
        let mut hmac = openssl::sign::Signer::new(MessageDigest::sha256(), &self.pin_key)
            .map_err(Error::internal)?;
        hmac.update(pin.expose_secret().as_bytes())
            .map_err(Error::internal)?;
        hmac.sign_to_vec().map_err(Error::internal)
    }
}

fn ck(e: CkError) -> Error {
    Error::internal(format!("PKCS#11: {e}"))
}

impl Pkcs11Tokens {
    /// Loads and initialises the module (e.g. `/usr/lib/softhsm/libsofthsm2.so`) unless this
    /// process already has.
    pub fn load(path: &Path, trust: TrustStore) -> Result<Self> {
        Ok(Pkcs11Tokens {
            module: module(path)?,
            trust,
        })
    }

    /// The kept session of the token labelled `label`, opened on first use.
    fn token(&self, label: &str) -> Result<Arc<Mutex<TokenSession>>> {
        let module = &self.module.context;
        let mut tokens = lock(&self.module.tokens)?;
        if let Some(token) = tokens.get(label) {
            return Ok(token.clone());
        }
        let slot = module
            .get_slots_with_token()
            .map_err(ck)?
            .into_iter()
            .find(|slot| {
                module
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label() == label)
            })
            .ok_or_else(|| Error::Config(format!("PKCS#11 token `{label}` is not present")))?;
        let session = module.open_ro_session(slot).map_err(ck)?;
        let token = Arc::new(Mutex::new(TokenSession {
            session,
            logged_in: None,
            keys: HashMap::new(),
        }));
        tokens.insert(label.to_owned(), token.clone());
        Ok(token)
    }

    /// Forgets a token whose session broke (token pulled out, module restarted), so the next
    /// request opens a new one.
    fn forget_if_gone(&self, label: &str, error: &CkError) {
        if let CkError::Pkcs11(
            RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent,
            _,
        ) = error
        {
            if let Ok(mut tokens) = lock(&self.module.tokens) {
                tokens.remove(label);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| Error::internal("PKCS#11 session lock poisoned"))
}

impl TokenSession {
    /// Logs the session in with `pin` unless it already is with that very PIN. The token
    /// judges the PIN: CKR_PIN_INCORRECT is kyso's wrong PIN (it counts toward kyso's
    /// lockout), CKR_PIN_LOCKED the token's own lock.
    fn login(&mut self, pin: &SecretString, tag: &[u8]) -> std::result::Result<(), CkError> {
        if let Some(current) = &self.logged_in {
            if openssl::memcmp::eq(current, tag) {
                return Ok(());
            }
            self.logged_in = None;
            // Handles of private objects do not outlive the login (PKCS#11 §5.6 C_Logout).
            self.keys.clear();
            match self.session.logout() {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => {}
                Err(e) => return Err(e),
            }
        }
        match self.session.login(UserType::User, Some(pin)) {
            // Logged in by someone else sharing the module: log out so this PIN is checked.
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                self.keys.clear();
                self.session.logout()?;
                self.session.login(UserType::User, Some(pin))?;
            }
            other => other?,
        }
        self.logged_in = Some(tag.to_vec());
        Ok(())
    }

    fn key(&mut self, object: &str) -> Result<TokenKeyInfo> {
        if let Some(info) = self.keys.get(object) {
            return Ok(info.clone());
        }
        let find = |class: ObjectClass| -> Result<ObjectHandle> {
            let found = self
                .session
                .find_objects(&[
                    Attribute::Class(class),
                    Attribute::Label(object.as_bytes().to_vec()),
                ])
                .map_err(ck)?;
            match found.as_slice() {
                [one] => Ok(*one),
                [] => Err(Error::Config(format!(
                    "PKCS#11 object `{object}` ({class}) is not on the token"
                ))),
                _ => Err(Error::Config(format!(
                    "PKCS#11 object `{object}` ({class}) is ambiguous"
                ))),
            }
        };
        let handle = find(ObjectClass::PRIVATE_KEY)?;
        let cert_handle = find(ObjectClass::CERTIFICATE)?;
        let key_type = self
            .session
            .get_attributes(handle, &[AttributeType::KeyType])
            .map_err(ck)?;
        let mechanism = match key_type.first() {
            Some(Attribute::KeyType(KeyType::RSA)) => KeyMechanism::RsaSha256,
            Some(Attribute::KeyType(KeyType::EC)) => KeyMechanism::Ecdsa,
            _ => {
                return Err(Error::Config(format!(
                    "PKCS#11 key `{object}` is neither RSA nor EC"
                )))
            }
        };
        let value = self
            .session
            .get_attributes(cert_handle, &[AttributeType::Value])
            .map_err(ck)?;
        let Some(Attribute::Value(der)) = value.first() else {
            return Err(Error::Config(format!(
                "PKCS#11 certificate `{object}` has no value"
            )));
        };
        let certificate = Certificate::from_der(der)
            .map_err(|_| Error::Config(format!("PKCS#11 certificate `{object}` is not X.509")))?;
        let info = TokenKeyInfo {
            handle,
            mechanism,
            certificate,
        };
        self.keys.insert(object.to_owned(), info.clone());
        Ok(info)
    }
}

impl KeyStore for Pkcs11Tokens {
    fn unlock(&self, key_ref: &str, pin: &SecretString) -> Result<SigningKey> {
        let uri = KeyUri::parse(key_ref).map_err(|e| Error::Config(e.to_string()))?;
        let token = self.token(&uri.token)?;
        let pin_tag = self.module.pin_tag(pin)?;
        let info = {
            let mut session = lock(&token)?;
            if let Err(e) = session.login(pin, &pin_tag) {
                self.forget_if_gone(&uri.token, &e);
                return Err(pin_error(e));
            }
            session.key(&uri.object)?
        };
        // The chain above the certificate, from the trust anchors; the root is left out as
        // for PKCS#12 keys.
        let chain = self
            .trust
            .chain(&info.certificate, &[], Utc::now())
            .map(|chain| {
                chain
                    .iter()
                    .skip(1)
                    .filter(|ca| ca.x509().subject_name_hash() != ca.x509().issuer_name_hash())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(SigningKey {
            key: Box::new(TokenKey {
                token,
                object: uri.object,
                pin: pin.clone(),
                pin_tag,
            }),
            certificate: info.certificate,
            chain,
        })
    }
}

fn pin_error(e: CkError) -> Error {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange | RvError::PinInvalid, _) => {
            Error::WrongPin
        }
        CkError::Pkcs11(RvError::PinLocked, _) => Error::TokenPinLocked,
        other => ck(other),
    }
}

/// A key on a token, unlocked for one signing operation. It keeps the request's PIN and the
/// key's label until then: another request may have logged the shared session in with a
/// different PIN, which invalidates the key's handle.
struct TokenKey {
    token: Arc<Mutex<TokenSession>>,
    object: String,
    pin: SecretString,
    pin_tag: Vec<u8>,
}

impl RawSigner for TokenKey {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut session = lock(&self.token)?;
        session.login(&self.pin, &self.pin_tag).map_err(pin_error)?;
        let key = session.key(&self.object)?;
        match key.mechanism {
            KeyMechanism::RsaSha256 => session
                .session
                .sign(&Mechanism::Sha256RsaPkcs, key.handle, data)
                .map_err(ck),
            KeyMechanism::Ecdsa => {
                let raw = session
                    .session
                    .sign(&Mechanism::Ecdsa, key.handle, &sha256(data)?)
                    .map_err(ck)?;
                ecdsa_der(&raw)
            }
        }
    }
}

/// PKCS#11 §2.3.1 gives an ECDSA signature as `r||s`, each half the same length; CMS wants
/// the DER `ECDSA-Sig-Value` SEQUENCE (RFC 5753 §7.2).
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(Error::internal("PKCS#11 ECDSA signature of odd length"));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = BigNum::from_slice(r).map_err(Error::internal)?;
    let s = BigNum::from_slice(s).map_err(Error::internal)?;
    EcdsaSig::from_private_components(r, s)
        .and_then(|sig| sig.to_der())
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc7512_paths() {
        let uri = KeyUri::parse("pkcs11:token=Ban%20C%C6%A1%20y%E1%BA%BFu;object=ky;type=private")
            .unwrap();
        assert_eq!(uri.token, "Ban Cơ yếu");
        assert_eq!(uri.object, "ky");
        for bad in [
            "pkcs12:x.p12",
            "pkcs11:token=t",
            "pkcs11:object=o",
            "pkcs11:token=t;object=o;type=cert",
            "pkcs11:token=t;object=o?pin-value=1234",
            "pkcs11:token=t;object=o;id=%01",
            "pkcs11:token=t;object",
        ] {
            assert!(KeyUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_pin_verdicts_are_kysos() {
        use cryptoki::context::Function;
        let login = |rv| pin_error(CkError::Pkcs11(rv, Function::Login));
        assert!(matches!(login(RvError::PinIncorrect), Error::WrongPin));
        assert!(matches!(login(RvError::PinLocked), Error::TokenPinLocked));
        assert!(matches!(login(RvError::DeviceRemoved), Error::Internal(_)));
    }

    #[test]
    fn raw_ecdsa_becomes_der() {
        let key = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let digest = [7u8; 32];
        let sig = EcdsaSig::sign(&digest, &key).unwrap();
        let mut raw = sig.r().to_vec_padded(32).unwrap();
        raw.extend(sig.s().to_vec_padded(32).unwrap());
        let der = ecdsa_der(&raw).unwrap();
        let back = EcdsaSig::from_der(&der).unwrap();
        assert!(back.verify(&digest, &key).unwrap());
        assert!(ecdsa_der(&raw[..63]).is_err());
    }
}
