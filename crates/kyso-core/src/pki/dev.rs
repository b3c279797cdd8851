//! `kyso pki dev-init`: a throw-away development PKI (root, issuing CA, CRL, TSA and demo signers
//! for three demo communes), so the service, the tests and demos run without real tokens.
//!
//! Everything here is marked DEV ONLY — names, the `dev_only` manifest flag — and the service
//! refuses it in production. The certificate helpers are public so tests can mint extra
//! certificates (untrusted roots, expired signers, further CRLs).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, SHA_256_WITH_RSA_ENCRYPTION};
use const_oid::AssociatedOid;
use der::asn1::{Any, BitString};
use der::{Decode, Encode};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::rand::rand_bytes;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::stack::Stack;
use openssl::x509::X509;
use rcgen::string::PrintableString;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyUsagePurpose, RevokedCertParams, SerialNumber, SignatureAlgorithm,
};
use serde::{Deserialize, Serialize};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;

use crate::error::{Error, Result};

pub const MANIFEST: &str = "manifest.json";

const ROOT_CN: &str = "kyso DEV ONLY Root CA - NOT FOR PRODUCTION";
const ISSUING_CN: &str = "kyso DEV ONLY Issuing CA";
const TSA_CN: &str = "kyso DEV ONLY TSA";
/// The CAs' names in kyso's URLs (`/crl/{name}.crl`, `/ca/{name}.crt`) and files.
pub const ROOT_NAME: &str = "root";
pub const ISSUING_NAME: &str = "issuing-ca";
const DEV_ORG: &str = "kyso (phát triển)";

// Lifetimes of the dev PKI, as a real one's: the CAs outlive their signers by years, so a
// document can be checked at a time long after its signer's certificate expired. Everything
// starts yesterday, so a clock a little behind still accepts it.
const ROOT_LIFETIME: Duration = Duration::days(7305);
const ISSUING_CA_LIFETIME: Duration = Duration::days(3652);
const TSA_LIFETIME: Duration = Duration::days(3 * 365);
const OCSP_RESPONDER_LIFETIME: Duration = Duration::days(3 * 365);
const SIGNER_LIFETIME: Duration = Duration::days(730);
/// The expired demo signer's certificate began this long ago and ended yesterday.
const EXPIRED_SIGNER_AGE: Duration = Duration::days(400);
/// How long the dev CRLs stay current (their nextUpdate).
const CRL_LIFETIME: Duration = Duration::days(30);
const PROVINCE: &str = "Thành phố Hải Phòng";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum SignerKind {
    Official,
    Agency,
}

/// What `dev_init` wrote. Paths are relative to the directory holding `manifest.json`, so the
/// directory can be moved or mounted elsewhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always true; the service refuses this PKI in production.
    pub dev_only: bool,
    pub root: PathBuf,
    /// Issuing CA certificate (PEM).
    pub issuing_ca: PathBuf,
    /// Issuing CA key + cert, so tests can sign further CRLs and certificates.
    pub issuing_ca_pkcs12: PathBuf,
    pub issuing_ca_pin: String,
    /// CRL of the issuing CA (DER) listing the revoked demo certificate; `<crl>.pem` sits beside.
    pub crl: PathBuf,
    pub tsa: KeyEntry,
    /// Delegated OCSP responders of the root and the issuing CA (a PKI made before they
    /// existed has none: `POST /ocsp` then answers `unauthorized`).
    #[serde(default)]
    pub ocsp_responders: Vec<KeyEntry>,
    pub communes: Vec<DemoCommune>,
    pub signers: Vec<ManifestSigner>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub certificate: PathBuf,
    pub pkcs12: PathBuf,
    pub pin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoCommune {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub demo: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestSigner {
    pub id: String,
    pub kind: SignerKind,
    pub commune: String,
    pub name: String,
    pub title: String,
    /// "RSA-2048" | "ECDSA-P256"
    pub key_algorithm: String,
    /// "valid" | "expired" | "revoked"
    pub demo_state: String,
    pub certificate: PathBuf,
    pub pkcs12: PathBuf,
    pub pin: String,
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(|e| {
            Error::Config(format!(
                "cannot read the dev PKI manifest {} ({e}); run `kyso pki dev-init`",
                path.display()
            ))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("invalid dev PKI manifest {}: {e}", path.display())))
    }

    /// Resolves a manifest-relative path.
    pub fn path(&self, dir: &Path, rel: &Path) -> PathBuf {
        dir.join(rel)
    }

    /// The issuing CA with its key, to mint further certificates (demo data, tests).
    pub fn issuing_ca(&self, dir: &Path) -> Result<Issued> {
        self.open(dir, &self.issuing_ca_pkcs12, &self.issuing_ca_pin)
    }

    /// The delegated OCSP responders with their keys.
    pub fn ocsp_responders(&self, dir: &Path) -> Result<Vec<Issued>> {
        self.ocsp_responders
            .iter()
            .map(|entry| self.open(dir, &entry.pkcs12, &entry.pin))
            .collect()
    }

    fn open(&self, dir: &Path, pkcs12: &Path, pin: &str) -> Result<Issued> {
        let what = pkcs12.display().to_string();
        let der = fs::read(self.path(dir, pkcs12)).ctx(&what)?;
        let p12 = Pkcs12::from_der(&der)
            .and_then(|p12| p12.parse2(pin))
            .ctx(&what)?;
        match (p12.cert, p12.pkey) {
            (Some(cert), Some(key)) => Ok(Issued { cert, key }),
            _ => Err(Error::Config(format!(
                "{what}: its PKCS#12 lacks the key or the certificate"
            ))),
        }
    }
}

/// Loads the dev PKI in `dir`, generating it first when manifest.json is missing.
pub fn ensure(dir: &Path, base_url: Option<&str>) -> Result<Manifest> {
    if dir.join(MANIFEST).is_file() {
        Manifest::load(dir)
    } else {
        dev_init(dir, base_url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa2048,
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The label used in the manifest.
    pub fn label(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "RSA-2048",
            KeyAlgorithm::EcdsaP256 => "ECDSA-P256",
        }
    }

    fn generate(self) -> Result<PKey<Private>> {
        match self {
            KeyAlgorithm::Rsa2048 => PKey::from_rsa(Rsa::generate(2048).ctx("RSA key")?),
            KeyAlgorithm::EcdsaP256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).ctx("P-256")?;
                PKey::from_ec_key(EcKey::generate(&group).ctx("EC key")?)
            }
        }
        .ctx("private key")
    }
}

/// What a certificate is for; decides its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// CA:TRUE, pathlen 0, keyCertSign + cRLSign.
    IntermediateCa,
    /// End entity for document signatures: digitalSignature + nonRepudiation, no EKU.
    Signer,
    /// RFC 3161 TSA: digitalSignature, critical EKU timeStamping.
    TimeStamping,
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2): digitalSignature, EKU OCSPSigning,
    /// and id-pkix-ocsp-nocheck, so a validator need not ask about the responder itself.
    OcspSigning,
}

/// Where the issuer `ca` (`root` or `issuing-ca`) of a certificate publishes its status and
/// its certificate: kyso's own routes under `base_url` (AIA OCSP and caIssuers, CRL
/// distribution point).
#[derive(Debug, Clone, Copy)]
pub struct Published<'a> {
    pub base_url: &'a str,
    pub ca: &'a str,
}

impl Published<'_> {
    pub fn ocsp_url(&self) -> String {
        format!("{}/ocsp", self.base_url.trim_end_matches('/'))
    }

    pub fn ca_url(&self) -> String {
        format!("{}/ca/{}.crt", self.base_url.trim_end_matches('/'), self.ca)
    }

    pub fn crl_url(&self) -> String {
        format!(
            "{}/crl/{}.crl",
            self.base_url.trim_end_matches('/'),
            self.ca
        )
    }

    /// The AIA extension (OCSP responder, issuer certificate); the CDP is rcgen's own.
    fn authority_info_access(&self) -> Result<CustomExtension> {
        use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP};
        use x509_cert::ext::pkix::name::GeneralName;
        use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
        let uri = |url: String| -> Result<GeneralName> {
            Ok(GeneralName::UniformResourceIdentifier(
                der::asn1::Ia5String::new(&url).ctx("URL")?,
            ))
        };
        let aia = AuthorityInfoAccessSyntax(vec![
            AccessDescription {
                access_method: ID_AD_OCSP,
                access_location: uri(self.ocsp_url())?,
            },
            AccessDescription {
                access_method: ID_AD_CA_ISSUERS,
                access_location: uri(self.ca_url())?,
            },
        ]);
        Ok(custom_extension(
            AuthorityInfoAccessSyntax::OID,
            aia.to_der().ctx("AIA")?,
        ))
    }

    fn crl_distribution_point(&self) -> CrlDistributionPoint {
        CrlDistributionPoint {
            uris: vec![self.crl_url()],
        }
    }
}

/// A non-critical extension rcgen has no field for, from its DER value.
fn custom_extension(oid: const_oid::ObjectIdentifier, value: Vec<u8>) -> CustomExtension {
    let arcs: Vec<u64> = oid.arcs().map(u64::from).collect();
    CustomExtension::from_oid_content(&arcs, value)
}

/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
const OCSP_NOCHECK: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");

/// A certificate with its private key.
#[derive(Clone)]
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

/// Subject DN; C=VN is always added. Values are encoded as UTF8String so diacritics survive.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubjectSpec<'a> {
    pub common_name: &'a str,
    pub organization: Option<&'a str>,
    pub locality: Option<&'a str>,
    /// e.g. `CCCD:<12 digits>` or `MST:<tax code>`.
    pub uid: Option<&'a str>,
}

/// A self-signed root (O=`kyso (phát triển)`, C=VN, [`ROOT_LIFETIME`] from yesterday).
pub fn new_root(cn: &str, alg: KeyAlgorithm) -> Result<Issued> {
    let subject = SubjectSpec {
        common_name: cn,
        organization: Some(DEV_ORG),
        ..Default::default()
    };
    let now = Utc::now();
    certify(
        None,
        &subject,
        None,
        alg,
        (now - Duration::days(1), now + ROOT_LIFETIME),
        None,
    )
}

/// Issues a certificate signed by `issuer` (SHA-256) with a fresh key.
pub fn issue(
    issuer: &Issued,
    subject: &SubjectSpec,
    profile: Profile,
    alg: KeyAlgorithm,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Issued> {
    certify(
        Some(issuer),
        subject,
        Some(profile),
        alg,
        (not_before, not_after),
        None,
    )
}

/// As [`issue`], the certificate naming where `issuer` publishes its status and certificate
/// (tests mint certificates that kyso's own responder answers for).
pub fn issue_published(
    issuer: &Issued,
    subject: &SubjectSpec,
    profile: Profile,
    alg: KeyAlgorithm,
    validity: (DateTime<Utc>, DateTime<Utc>),
    published: &Published,
) -> Result<Issued> {
    certify(
        Some(issuer),
        subject,
        Some(profile),
        alg,
        validity,
        Some(published),
    )
}

/// Builds a certificate; `issuer == None` means self-signed root, `profile == None` a root CA.
fn certify(
    issuer: Option<&Issued>,
    subject: &SubjectSpec,
    profile: Option<Profile>,
    alg: KeyAlgorithm,
    (not_before, not_after): (DateTime<Utc>, DateTime<Utc>),
    published: Option<&Published>,
) -> Result<Issued> {
    let key = OpensslKey::new(alg.generate()?)?;
    let mut params = CertificateParams::default();
    params.serial_number = Some(random_serial()?);
    params.distinguished_name = subject_name(subject)?;
    params.not_before = offset_time(not_before)?;
    params.not_after = offset_time(not_after)?;
    params.key_identifier_method = KeyIdMethod::PreSpecified(key.key_id()?);
    // A root needs no AKI; everything else names its issuer's key for path building.
    params.use_authority_key_identifier_extension = issuer.is_some();
    (params.is_ca, params.key_usages) = match profile {
        None => (
            IsCa::Ca(BasicConstraints::Unconstrained),
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
        ),
        Some(Profile::IntermediateCa) => (
            IsCa::Ca(BasicConstraints::Constrained(0)),
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
        ),
        Some(Profile::Signer) => (
            IsCa::ExplicitNoCa,
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
        ),
        Some(Profile::TimeStamping | Profile::OcspSigning) => {
            (IsCa::ExplicitNoCa, vec![KeyUsagePurpose::DigitalSignature])
        }
    };
    match profile {
        Some(Profile::TimeStamping) => {
            // RFC 3161 §2.3: the TSA's EKU must be exactly timeStamping and critical; rcgen
            // writes its EKU field non-critical, so this one is spelt out.
            let eku = ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_TIME_STAMPING]);
            let mut eku = custom_extension(ExtendedKeyUsage::OID, eku.to_der().ctx("EKU")?);
            eku.set_criticality(true);
            params.custom_extensions.push(eku);
        }
        Some(Profile::OcspSigning) => {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
            params
                .custom_extensions
                .push(custom_extension(OCSP_NOCHECK, vec![0x05, 0x00]));
        }
        _ => {}
    }
    if let Some(published) = published {
        params.crl_distribution_points = vec![published.crl_distribution_point()];
        params
            .custom_extensions
            .push(published.authority_info_access()?);
    }
    let cert = match issuer {
        None => params.self_signed(&key),
        Some(issuer) => params.signed_by(&key, &issuer.rcgen_issuer()?),
    }
    .ctx("certificate")?;
    Ok(Issued {
        cert: X509::from_der(cert.der()).ctx("certificate")?,
        key: key.key,
    })
}

/// kyso's OpenSSL key as rcgen's signer: rcgen lays out certificates and CRLs, OpenSSL
/// signs them. (rcgen's own `KeyPair` would bring ring or aws-lc-rs, a second native crypto
/// library, and a PKCS#8 round trip of every key.)
struct OpensslKey {
    key: PKey<Private>,
    /// The subjectPublicKey bits of the key's SubjectPublicKeyInfo.
    public: Vec<u8>,
    algorithm: &'static SignatureAlgorithm,
}

impl OpensslKey {
    fn new(key: PKey<Private>) -> Result<Self> {
        let algorithm = match key.id() {
            Id::RSA => &rcgen::PKCS_RSA_SHA256,
            // kyso's EC keys are P-256 (KeyAlgorithm::EcdsaP256).
            Id::EC => &rcgen::PKCS_ECDSA_P256_SHA256,
            other => return Err(Error::internal(format!("cannot sign with {other:?}"))),
        };
        let spki = key.public_key_to_der().ctx("public key")?;
        let public = spki::SubjectPublicKeyInfoRef::from_der(&spki)
            .ctx("public key")?
            .subject_public_key
            .raw_bytes()
            .to_vec();
        Ok(OpensslKey {
            key,
            public,
            algorithm,
        })
    }

    /// RFC 5280 §4.2.1.2 method 1 (SHA-1 of the public key bits), as OpenSSL computes it.
    fn key_id(&self) -> Result<Vec<u8>> {
        Ok(openssl::hash::hash(MessageDigest::sha1(), &self.public)
            .ctx("key identifier")?
            .to_vec())
    }
}

impl rcgen::PublicKeyData for OpensslKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
}

impl rcgen::SigningKey for OpensslKey {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        // ECDSA signatures come DER-encoded, as X.509 wants them.
        Signer::new(MessageDigest::sha256(), &self.key)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(message))
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

impl Issued {
    /// This certificate and key as rcgen's issuer: its subject, byte for byte, and its key
    /// identifier (for the AKI of what it signs).
    fn rcgen_issuer(&self) -> Result<Issuer<'static, OpensslKey>> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(self.cert.subject_name())?;
        params.key_identifier_method = self.key_identifier()?;
        Ok(Issuer::new(params, OpensslKey::new(self.key.clone())?))
    }

    /// The subject key identifier, which every certificate made here has.
    fn key_identifier(&self) -> Result<KeyIdMethod> {
        let ski = self.cert.subject_key_id().ok_or_else(|| {
            Error::internal("the issuer's certificate has no subject key identifier")
        })?;
        Ok(KeyIdMethod::PreSpecified(ski.as_slice().to_vec()))
    }
}

fn subject_name(s: &SubjectSpec) -> Result<DistinguishedName> {
    let mut name = DistinguishedName::new();
    // X.520 requires countryName as PrintableString; everything else is UTF8String.
    let country = PrintableString::try_from("VN").ctx("C")?;
    name.push(DnType::CountryName, DnValue::PrintableString(country));
    let entries = [
        (DnType::LocalityName, s.locality),
        (DnType::OrganizationName, s.organization),
        (DnType::CommonName, Some(s.common_name)),
        (DnType::CustomDnType(USER_ID.to_vec()), s.uid),
    ];
    for (kind, value) in entries {
        if let Some(value) = value {
            name.push(kind, DnValue::Utf8String(value.into()));
        }
    }
    Ok(name)
}

/// userId (RFC 4519): 0.9.2342.19200300.100.1.1.
const USER_ID: [u64; 7] = [0, 9, 2342, 19200300, 100, 1, 1];

/// An existing certificate's name as rcgen's, keeping each value's string type.
fn distinguished_name(name: &openssl::x509::X509NameRef) -> Result<DistinguishedName> {
    use der::asn1::{PrintableStringRef, Utf8StringRef};
    use der::{Tag, Tagged};
    let parsed = Name::from_der(&name.to_der().ctx("name")?).ctx("name")?;
    let mut out = DistinguishedName::new();
    for attribute in parsed.0.iter().flat_map(|rdn| rdn.0.iter()) {
        let arcs: Vec<u64> = attribute.oid.arcs().map(u64::from).collect();
        let value = match attribute.value.tag() {
            Tag::PrintableString => {
                let text = attribute
                    .value
                    .decode_as::<PrintableStringRef>()
                    .ctx("name")?;
                DnValue::PrintableString(PrintableString::try_from(text.as_str()).ctx("name")?)
            }
            Tag::Utf8String => {
                let text = attribute.value.decode_as::<Utf8StringRef>().ctx("name")?;
                DnValue::Utf8String(text.as_str().into())
            }
            other => return Err(Error::internal(format!("name: a {other} value"))),
        };
        out.push(DnType::from_oid(&arcs), value);
    }
    Ok(out)
}

/// 16 random bytes with the top bit cleared: positive, as RFC 5280 requires.
fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    rand_bytes(&mut bytes).ctx("random serial")?;
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

/// A random 6-digit PIN (the modulo bias is irrelevant for dev keys).
fn random_pin() -> Result<String> {
    let mut bytes = [0u8; 4];
    rand_bytes(&mut bytes).ctx("random PIN")?;
    Ok(format!("{:06}", u32::from_be_bytes(bytes) % 1_000_000))
}

/// rcgen writes UTCTime through 2049 and GeneralizedTime after (RFC 5280 §4.1.2.5).
fn offset_time(t: DateTime<Utc>) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).ctx("time")
}

/// A DER CRL v2 signed by `issuer` (SHA-256), with AKI and a CRL number. The number is
/// `this_update` in Unix seconds, so successive CRLs increase without keeping state.
pub fn build_crl(
    issuer: &Issued,
    revoked: &[(&X509, DateTime<Utc>)],
    this_update: DateTime<Utc>,
    next_update: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let revoked_certs = revoked
        .iter()
        .map(|(cert, at)| {
            Ok(RevokedCertParams {
                serial_number: SerialNumber::from_slice(
                    &cert.serial_number().to_bn().ctx("serial")?.to_vec(),
                ),
                revocation_time: offset_time(*at)?,
                reason_code: None,
                invalidity_date: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let number = u64::try_from(this_update.timestamp()).ctx("CRL number")?;
    let params = CertificateRevocationListParams {
        this_update: offset_time(this_update)?,
        next_update: offset_time(next_update)?,
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        // The AKI names the issuer's key as its certificate's SKI does.
        key_identifier_method: issuer.key_identifier()?,
    };
    let crl = params.signed_by(&issuer.rcgen_issuer()?).ctx("CRL")?;
    Ok(crl.der().to_vec())
}

/// SHA-256 with `key`'s algorithm (RSA PKCS#1 v1.5 or ECDSA), as CRLs and OCSP answers say.
pub fn signature_algorithm(key: &PKey<Private>) -> Result<AlgorithmIdentifierOwned> {
    Ok(match key.id() {
        Id::RSA => AlgorithmIdentifierOwned {
            oid: SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        Id::EC => AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA_256,
            parameters: None,
        },
        other => return Err(Error::internal(format!("cannot sign with {other:?}"))),
    })
}

/// The signature of `tbs` by `key` under [`signature_algorithm`].
pub fn sign_sha256(key: &PKey<Private>, tbs: &[u8]) -> Result<BitString> {
    let signature = Signer::new(MessageDigest::sha256(), key)
        .and_then(|mut s| s.sign_oneshot_to_vec(tbs))
        .ctx("signing")?;
    BitString::from_bytes(&signature).ctx("signature")
}

/// Writes key + certificate + `chain` as PKCS#12 protected by `pin` (OpenSSL 3 defaults:
/// AES-256-CBC, PBKDF2, SHA-256 MAC).
pub fn write_pkcs12(
    path: &Path,
    issued: &Issued,
    chain: &[&X509],
    friendly_name: &str,
    pin: &str,
) -> Result<()> {
    let mut ca = Stack::new().ctx("stack")?;
    for cert in chain {
        ca.push((*cert).clone()).ctx("stack")?;
    }
    let der = Pkcs12::builder()
        .name(friendly_name)
        .pkey(&issued.key)
        .cert(&issued.cert)
        .ca(ca)
        .build2(pin)
        .and_then(|p12| p12.to_der())
        .ctx("PKCS#12")?;
    write(path, &der)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    // Keys and their PINs: readable by the service's user only.
    crate::private_files::write(path, bytes)
        .map_err(|e| Error::internal(format!("writing {}: {e}", path.display())))
}

/// Writes `<stem>.pem` and `<stem>.p12` (own random PIN) under `dir`; returns relative paths.
fn store(dir: &Path, stem: &str, name: &str, issued: &Issued, chain: &[&X509]) -> Result<KeyEntry> {
    let entry = KeyEntry {
        certificate: PathBuf::from(format!("{stem}.pem")),
        pkcs12: PathBuf::from(format!("{stem}.p12")),
        pin: random_pin()?,
    };
    write(
        &dir.join(&entry.certificate),
        &issued.cert.to_pem().ctx("PEM")?,
    )?;
    write_pkcs12(&dir.join(&entry.pkcs12), issued, chain, name, &entry.pin)?;
    Ok(entry)
}

/// (code, name, kind, agency key algorithm)
const COMMUNES: [(&str, &str, &str, KeyAlgorithm); 3] = [
    (
        "99001",
        "Phường Thành Đông",
        "phường",
        KeyAlgorithm::Rsa2048,
    ),
    ("99002", "Xã An Hưng", "xã", KeyAlgorithm::EcdsaP256),
    ("99003", "Đặc khu Cát Hải", "đặc khu", KeyAlgorithm::Rsa2048),
];

const CHAIR: &str = "Chủ tịch UBND";
const VICE_CHAIR: &str = "Phó Chủ tịch UBND";
const CIVIL_STATUS: &str = "Công chức Tư pháp - Hộ tịch";
const RSA: KeyAlgorithm = KeyAlgorithm::Rsa2048;
const EC: KeyAlgorithm = KeyAlgorithm::EcdsaP256;

/// (commune code, id suffix, full name, title, key algorithm, demo state)
#[rustfmt::skip]
const OFFICIALS: [(&str, &str, &str, &str, KeyAlgorithm, &str); 11] = [
    ("99001", "chair", "Nguyễn Văn An", CHAIR, RSA, "valid"),
    ("99001", "vice-chair", "Trần Thị Bình", VICE_CHAIR, EC, "valid"),
    ("99001", "civil-status", "Lê Hoàng Cường", CIVIL_STATUS, RSA, "valid"),
    ("99001", "expired", "Phạm Thị Dung", "Công chức Văn phòng - Thống kê", RSA, "expired"),
    ("99001", "revoked", "Vũ Đức Giang", "Công chức Địa chính - Xây dựng", RSA, "revoked"),
    ("99002", "chair", "Đặng Quốc Hùng", CHAIR, RSA, "valid"),
    ("99002", "vice-chair", "Bùi Thị Hương", VICE_CHAIR, RSA, "valid"),
    ("99002", "civil-status", "Đỗ Minh Khoa", CIVIL_STATUS, RSA, "valid"),
    ("99003", "chair", "Hồ Thị Lan", CHAIR, RSA, "valid"),
    ("99003", "vice-chair", "Ngô Văn Mạnh", VICE_CHAIR, RSA, "valid"),
    ("99003", "civil-status", "Dương Thị Ngọc", CIVIL_STATUS, RSA, "valid"),
];

/// Generates the whole dev PKI into `dir` (creating it). Overwrites an existing one.
/// `base_url` is where kyso serves the dev CAs' OCSP responder, CRLs and certificates; the
/// certificates name it in their AIA and CRL distribution points. Without it they name no
/// URL (validators that fetch would find nothing there: the test suite's shared PKI).
pub fn dev_init(dir: &Path, base_url: Option<&str>) -> Result<Manifest> {
    let now = Utc::now();
    let yesterday = now - Duration::days(1);
    let root = new_root(ROOT_CN, KeyAlgorithm::Rsa2048)?;
    let dev = |cn| SubjectSpec {
        common_name: cn,
        organization: Some(DEV_ORG),
        ..Default::default()
    };
    let by = |ca| base_url.map(|base_url| Published { base_url, ca });
    let ca = certify(
        Some(&root),
        &dev(ISSUING_CN),
        Some(Profile::IntermediateCa),
        KeyAlgorithm::Rsa2048,
        (yesterday, now + ISSUING_CA_LIFETIME),
        by(ROOT_NAME).as_ref(),
    )?;
    let tsa = certify(
        Some(&ca),
        &dev(TSA_CN),
        Some(Profile::TimeStamping),
        KeyAlgorithm::Rsa2048,
        (yesterday, now + TSA_LIFETIME),
        by(ISSUING_NAME).as_ref(),
    )?;

    let root_path = PathBuf::from("root.pem");
    write(&dir.join(&root_path), &root.cert.to_pem().ctx("PEM")?)?;
    let ca_entry = store(dir, ISSUING_NAME, ISSUING_NAME, &ca, &[&root.cert])?;
    let chain = [&ca.cert, &root.cert];
    let tsa_entry = store(dir, "tsa", "tsa", &tsa, &chain)?;
    // A delegated OCSP responder for each CA, for `POST /ocsp`.
    let mut ocsp_responders = Vec::new();
    for (issuer, name, chain) in [
        (&root, ROOT_NAME, vec![&root.cert]),
        (&ca, ISSUING_NAME, chain.to_vec()),
    ] {
        let cn = format!("kyso DEV ONLY OCSP responder ({name})");
        let subject = SubjectSpec {
            common_name: &cn,
            organization: Some(DEV_ORG),
            ..Default::default()
        };
        let responder = issue(
            issuer,
            &subject,
            Profile::OcspSigning,
            KeyAlgorithm::Rsa2048,
            yesterday,
            now + OCSP_RESPONDER_LIFETIME,
        )?;
        let stem = format!("ocsp-{name}");
        ocsp_responders.push(store(dir, &stem, &stem, &responder, &chain)?);
    }

    let mut communes = Vec::new();
    let mut signers = Vec::new();
    let mut revoked = Vec::new();
    for (code, commune, kind, agency_alg) in COMMUNES {
        communes.push(DemoCommune {
            code: code.into(),
            name: commune.into(),
            kind: kind.into(),
            province: PROVINCE.into(),
            demo: true,
        });
        let agency = format!("UBND {}", commune.to_uppercase());
        // Identifiers use prefixes no real one has (MST "99…", CCCD province code "099").
        let mut people = vec![(
            format!("{code}-agency"),
            SignerKind::Agency,
            agency.as_str(),
            "Cơ quan",
            agency_alg,
            "valid",
            format!("MST:99{code}000"),
        )];
        let officials = (0u32..).zip(OFFICIALS).filter(|(_, o)| o.0 == code);
        people.extend(officials.map(|(n, (_, role, name, title, alg, state))| {
            let female = u8::from(name.contains(" Thị "));
            let cccd = format!("CCCD:099{female}{:02}{:06}", 70 + n, 100 + n);
            let id = format!("{code}-{role}");
            (id, SignerKind::Official, name, title, alg, state, cccd)
        }));

        for (id, kind, name, title, alg, state, uid) in people {
            let subject = SubjectSpec {
                common_name: name,
                organization: Some(&agency),
                locality: Some(commune),
                uid: Some(&uid),
            };
            let (from, until) = match state {
                "expired" => (now - EXPIRED_SIGNER_AGE, yesterday),
                _ => (yesterday, now + SIGNER_LIFETIME),
            };
            let cert = certify(
                Some(&ca),
                &subject,
                Some(Profile::Signer),
                alg,
                (from, until),
                by(ISSUING_NAME).as_ref(),
            )?;
            let entry = store(dir, &format!("signers/{id}"), &id, &cert, &chain)?;
            if state == "revoked" {
                revoked.push(cert.cert);
            }
            signers.push(ManifestSigner {
                id,
                kind,
                commune: code.into(),
                name: name.into(),
                title: title.into(),
                key_algorithm: alg.label().into(),
                demo_state: state.into(),
                certificate: entry.certificate,
                pkcs12: entry.pkcs12,
                pin: entry.pin,
            });
        }
    }

    let revoked_at: Vec<_> = revoked
        .iter()
        .map(|c| (c, now - Duration::hours(1)))
        .collect();
    let crl = build_crl(&ca, &revoked_at, now, now + CRL_LIFETIME)?;
    let crl_path = PathBuf::from("crl/issuing-ca.crl");
    write(&dir.join(&crl_path), &crl)?;
    let crl_pem = openssl::x509::X509Crl::from_der(&crl)
        .and_then(|c| c.to_pem())
        .ctx("CRL PEM")?;
    write(&dir.join("crl/issuing-ca.crl.pem"), &crl_pem)?;
    // The root's (empty) list, so that the issuing CA's status is known too: PAdES B-LT
    // needs revocation data for every certificate below the trust anchor.
    write(
        &dir.join("crl/root.crl"),
        &build_crl(&root, &[], now, now + CRL_LIFETIME)?,
    )?;

    let manifest = Manifest {
        dev_only: true,
        root: root_path,
        issuing_ca: ca_entry.certificate,
        issuing_ca_pkcs12: ca_entry.pkcs12,
        issuing_ca_pin: ca_entry.pin,
        crl: crl_path,
        tsa: tsa_entry,
        ocsp_responders,
        communes,
        signers,
    };
    // The manifest goes last, via rename: `ensure` treats its presence as "PKI complete", so a
    // crash half-way makes the next start regenerate instead of loading a partial PKI.
    let json = serde_json::to_vec_pretty(&manifest).ctx("manifest")?;
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    write(&tmp, &json)?;
    fs::rename(&tmp, dir.join(MANIFEST)).ctx("writing manifest")?;
    Ok(manifest)
}

/// Attaches what was being done to low-level (OpenSSL, DER, I/O) failures.
trait Context<T> {
    fn ctx(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Internal(format!("{what}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkcs12::Pkcs12;
    use openssl::ssl::SslFiletype;
    use openssl::x509::store::{X509Lookup, X509StoreBuilder};
    use openssl::x509::verify::X509VerifyFlags;
    use openssl::x509::{X509Crl, X509StoreContext, X509VerifyResult};

    // X509_V_ERR_* codes (openssl-sys is not a direct dependency).
    const CERT_HAS_EXPIRED: i32 = 10;
    const CERT_REVOKED: i32 = 23;

    fn pem(dir: &Path, rel: &Path) -> X509 {
        X509::from_pem(&fs::read(dir.join(rel)).unwrap()).unwrap()
    }

    /// Verifies `cert` against `root` with `ca` as intermediate, optionally checking the CRL.
    fn verify(cert: &X509, ca: &X509, root: &X509, crl: Option<&Path>) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(root.clone()).unwrap();
        if let Some(crl) = crl {
            let lookup = store.add_lookup(X509Lookup::file()).unwrap();
            lookup.load_crl_file(crl, SslFiletype::PEM).unwrap();
            store.set_flags(X509VerifyFlags::CRL_CHECK).unwrap();
        }
        let store = store.build();
        let mut chain = Stack::new().unwrap();
        chain.push(ca.clone()).unwrap();
        let mut ctx = X509StoreContext::new().unwrap();
        ctx.init(&store, cert, &chain, |c| c.verify_cert().map(|_| c.error()))
            .unwrap()
    }

    #[test]
    fn dev_init_writes_a_consistent_pki() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let written = dev_init(dir, Some("http://127.0.0.1:8080")).unwrap();
        let m = Manifest::load(dir).unwrap();
        assert!(m.dev_only);
        assert_eq!(m.signers.len(), written.signers.len());
        assert_eq!(m.communes.len(), 3);
        assert_eq!(m.signers.len(), 3 * 4 + 2);

        let root = pem(dir, &m.root);
        let ca = pem(dir, &m.issuing_ca);
        assert!(root.subject_name().entries().any(|e| e
            .data()
            .to_string()
            .unwrap()
            .contains("DEV ONLY")));
        let crl_pem = dir.join("crl/issuing-ca.crl.pem");

        // The issuing CA's PKCS#12 is usable for minting more.
        let p12 = Pkcs12::from_der(&fs::read(m.path(dir, &m.issuing_ca_pkcs12)).unwrap())
            .unwrap()
            .parse2(&m.issuing_ca_pin)
            .unwrap();
        assert!(p12.pkey.unwrap().public_eq(&ca.public_key().unwrap()));

        let tsa = pem(dir, &m.tsa.certificate);
        assert_eq!(verify(&tsa, &ca, &root, None), X509VerifyResult::OK);

        let mut revoked_serial = None;
        for s in &m.signers {
            let cert = pem(dir, &s.certificate);
            let result = verify(&cert, &ca, &root, Some(&crl_pem));
            match s.demo_state.as_str() {
                "valid" => assert_eq!(result, X509VerifyResult::OK, "{}", s.id),
                "expired" => assert_eq!(result.as_raw(), CERT_HAS_EXPIRED, "{}", s.id),
                "revoked" => {
                    assert_eq!(result.as_raw(), CERT_REVOKED, "{}", s.id);
                    // Without the CRL it chains fine.
                    assert_eq!(verify(&cert, &ca, &root, None), X509VerifyResult::OK);
                    revoked_serial = Some(cert.serial_number().to_bn().unwrap());
                }
                other => panic!("unexpected state {other}"),
            }

            let der = fs::read(m.path(dir, &s.pkcs12)).unwrap();
            let p12 = Pkcs12::from_der(&der).unwrap();
            assert!(p12.parse2("000000x").is_err(), "{}", s.id);
            let parsed = p12.parse2(&s.pin).unwrap();
            assert_eq!(
                parsed.cert.unwrap().to_der().unwrap(),
                cert.to_der().unwrap()
            );
            assert!(parsed.pkey.unwrap().public_eq(&cert.public_key().unwrap()));
            assert_eq!(parsed.ca.unwrap().len(), 2);

            let expected = if s.key_algorithm == "ECDSA-P256" {
                Id::EC
            } else {
                Id::RSA
            };
            assert_eq!(cert.public_key().unwrap().id(), expected, "{}", s.id);

            // Diacritics survive as UTF8String.
            let cert_der = cert.to_der().unwrap();
            let (_, x) = x509_parser::parse_x509_certificate(&cert_der).unwrap();
            let cn = x.subject().iter_common_name().next().unwrap();
            assert_eq!(cn.as_str().unwrap(), s.name);
            let uid = x
                .subject()
                .iter_by_oid(&x509_parser::oid_registry::OID_USERID)
                .next()
                .unwrap()
                .as_str()
                .unwrap();
            let prefix = match s.kind {
                SignerKind::Agency => "MST:",
                SignerKind::Official => "CCCD:",
            };
            assert!(uid.starts_with(prefix), "{uid}");
        }
        for id in ["99001-vice-chair", "99002-agency"] {
            let s = m.signers.iter().find(|s| s.id == id).unwrap();
            assert_eq!(s.key_algorithm, "ECDSA-P256");
        }
        let mut names: Vec<_> = m.signers.iter().map(|s| &s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), m.signers.len());

        // The CRL is signed by the issuing CA and lists exactly the revoked certificate.
        let crl = X509Crl::from_der(&fs::read(dir.join(&m.crl)).unwrap()).unwrap();
        assert!(crl.verify(&ca.public_key().unwrap()).unwrap());
        assert!(!crl.verify(&root.public_key().unwrap()).unwrap());
        let listed: Vec<_> = crl
            .get_revoked()
            .unwrap()
            .iter()
            .map(|r| r.serial_number().to_bn().unwrap())
            .collect();
        assert_eq!(listed, vec![revoked_serial.unwrap()]);
    }

    #[test]
    fn ensure_generates_once_then_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let first = ensure(tmp.path(), None).unwrap();
        let second = ensure(tmp.path(), None).unwrap();
        assert_eq!(first.issuing_ca_pin, second.issuing_ca_pin);
        assert_eq!(first.signers[0].pin, second.signers[0].pin);
    }

    #[test]
    fn helpers_mint_untrusted_and_ec_issued_material() {
        let rogue = new_root("Rogue Root", KeyAlgorithm::EcdsaP256).unwrap();
        let now = Utc::now();
        let subject = SubjectSpec {
            common_name: "Nguyễn Văn An",
            ..Default::default()
        };
        let leaf = issue(
            &rogue,
            &subject,
            Profile::Signer,
            KeyAlgorithm::Rsa2048,
            now - Duration::days(1),
            now + Duration::days(1),
        )
        .unwrap();
        assert!(leaf.cert.verify(&rogue.key).unwrap());
        let der = build_crl(&rogue, &[], now, now + Duration::days(1)).unwrap();
        let crl = X509Crl::from_der(&der).unwrap();
        assert!(crl.verify(&rogue.key).unwrap());
        assert!(crl.get_revoked().is_none());
    }
}
