//! `kyso pki dev-init`: a throw-away development PKI (root, issuing CA, CRL, TSA and demo signers
//! for three demo communes), so the service, the tests and demos run without real tokens.
//!
//! Everything here is marked DEV ONLY — names, the `dev_only` manifest flag — and the service
//! refuses it in production. The certificate helpers are public so tests can mint extra
//! certificates (untrusted roots, expired signers, further CRLs).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, Utc};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, SHA_256_WITH_RSA_ENCRYPTION};
use const_oid::AssociatedOid;
use der::asn1::{Any, BitString, GeneralizedTime, OctetString, Uint, UtcTime};
use der::{Decode, Encode};
use openssl::asn1::{Asn1Integer, Asn1Time, Asn1Type};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::rand::rand_bytes;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509};
use serde::{Deserialize, Serialize};
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier as AkiExt, CrlNumber};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::error::{Error, Result};

pub const MANIFEST: &str = "manifest.json";

const ROOT_CN: &str = "kyso DEV ONLY Root CA - NOT FOR PRODUCTION";
const ISSUING_CN: &str = "kyso DEV ONLY Issuing CA";
const TSA_CN: &str = "kyso DEV ONLY TSA";
/// The CAs' names in kyso's URLs (`/crl/{name}.crl`, `/ca/{name}.crt`) and files.
pub const ROOT_NAME: &str = "root";
pub const ISSUING_NAME: &str = "issuing-ca";
const DEV_ORG: &str = "kyso (phát triển)";
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

    fn extensions(&self) -> Result<Vec<openssl::x509::X509Extension>> {
        use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP};
        use x509_cert::ext::pkix::crl::dp::DistributionPoint;
        use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
        use x509_cert::ext::pkix::{
            AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints,
        };
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
        let cdp = CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![uri(self.crl_url())?])),
            reasons: None,
            crl_issuer: None,
        }]);
        Ok(vec![
            raw_extension(AuthorityInfoAccessSyntax::OID, &aia.to_der().ctx("AIA")?)?,
            raw_extension(CrlDistributionPoints::OID, &cdp.to_der().ctx("CDP")?)?,
        ])
    }
}

/// A non-critical extension from its DER value (the openssl crate builds AIA, CDP and
/// ocsp-nocheck only through its deprecated config-string API).
fn raw_extension(
    oid: const_oid::ObjectIdentifier,
    value: &[u8],
) -> Result<openssl::x509::X509Extension> {
    let oid = openssl::asn1::Asn1Object::from_str(&oid.to_string()).ctx("OID")?;
    let value = openssl::asn1::Asn1OctetString::new_from_bytes(value).ctx("extension")?;
    openssl::x509::X509Extension::new_from_der(&oid, false, &value).ctx("extension")
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

/// A self-signed root (O=`kyso (phát triển)`, C=VN, 20 years from yesterday).
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
        (now - Duration::days(1), now + Duration::days(7305)),
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
    let key = alg.generate()?;
    let name = subject_name(subject)?;
    let mut b = X509Builder::new().ctx("X509 builder")?;
    b.set_version(2).ctx("version")?;
    let serial = random_serial()?;
    b.set_serial_number(&serial).ctx("serial")?;
    b.set_subject_name(&name).ctx("subject")?;
    match issuer {
        Some(i) => b.set_issuer_name(i.cert.subject_name()),
        None => b.set_issuer_name(&name),
    }
    .ctx("issuer")?;
    b.set_pubkey(&key).ctx("public key")?;
    let (from, until) = (asn1_time(not_before)?, asn1_time(not_after)?);
    b.set_not_before(&from).ctx("notBefore")?;
    b.set_not_after(&until).ctx("notAfter")?;

    let (basic, usage) = match profile {
        None => (
            BasicConstraints::new().critical().ca().build(),
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build(),
        ),
        Some(Profile::IntermediateCa) => (
            BasicConstraints::new().critical().ca().pathlen(0).build(),
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build(),
        ),
        Some(Profile::Signer) => (
            BasicConstraints::new().build(),
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build(),
        ),
        Some(Profile::TimeStamping | Profile::OcspSigning) => (
            BasicConstraints::new().build(),
            KeyUsage::new().critical().digital_signature().build(),
        ),
    };
    b.append_extension(basic.ctx("basicConstraints")?)
        .ctx("basicConstraints")?;
    b.append_extension(usage.ctx("keyUsage")?).ctx("keyUsage")?;
    if profile == Some(Profile::TimeStamping) {
        // RFC 3161 §2.3: the TSA's EKU must be exactly timeStamping and critical.
        let eku = ExtendedKeyUsage::new().critical().time_stamping().build();
        b.append_extension(eku.ctx("extendedKeyUsage")?)
            .ctx("extendedKeyUsage")?;
    }
    if profile == Some(Profile::OcspSigning) {
        let eku = ExtendedKeyUsage::new().other("OCSPSigning").build();
        b.append_extension(eku.ctx("extendedKeyUsage")?)
            .ctx("extendedKeyUsage")?;
        b.append_extension(raw_extension(OCSP_NOCHECK, &[0x05, 0x00])?)
            .ctx("ocsp-nocheck")?;
    }
    for extension in published
        .map(Published::extensions)
        .transpose()?
        .unwrap_or_default()
    {
        b.append_extension(extension).ctx("AIA/CDP")?;
    }
    let issuer_cert = issuer.map(|i| i.cert.as_ref());
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer_cert, None));
    b.append_extension(ski.ctx("subjectKeyIdentifier")?)
        .ctx("subjectKeyIdentifier")?;
    if issuer.is_some() {
        // A root needs no AKI; everything else names its issuer's key for path building.
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(issuer_cert, None));
        b.append_extension(aki.ctx("authorityKeyIdentifier")?)
            .ctx("authorityKeyIdentifier")?;
    }
    b.sign(issuer.map_or(&key, |i| &i.key), MessageDigest::sha256())
        .ctx("signing certificate")?;
    Ok(Issued {
        cert: b.build(),
        key,
    })
}

fn subject_name(s: &SubjectSpec) -> Result<X509Name> {
    let mut b = X509NameBuilder::new().ctx("name builder")?;
    // X.520 requires countryName as PrintableString; everything else is UTF8String.
    b.append_entry_by_nid_with_type(Nid::COUNTRYNAME, "VN", Asn1Type::PRINTABLESTRING)
        .ctx("C")?;
    let entries = [
        (Nid::LOCALITYNAME, s.locality),
        (Nid::ORGANIZATIONNAME, s.organization),
        (Nid::COMMONNAME, Some(s.common_name)),
        (Nid::USERID, s.uid),
    ];
    for (nid, value) in entries {
        if let Some(value) = value {
            b.append_entry_by_nid_with_type(nid, value, Asn1Type::UTF8STRING)
                .ctx("subject attribute")?;
        }
    }
    Ok(b.build())
}

/// 16 random bytes with the top bit cleared: positive, as RFC 5280 requires.
fn random_serial() -> Result<Asn1Integer> {
    let mut bytes = [0u8; 16];
    rand_bytes(&mut bytes).ctx("random serial")?;
    bytes[0] &= 0x7f;
    BigNum::from_slice(&bytes)
        .and_then(|bn| bn.to_asn1_integer())
        .ctx("serial")
}

/// A random 6-digit PIN (the modulo bias is irrelevant for dev keys).
fn random_pin() -> Result<String> {
    let mut bytes = [0u8; 4];
    rand_bytes(&mut bytes).ctx("random PIN")?;
    Ok(format!("{:06}", u32::from_be_bytes(bytes) % 1_000_000))
}

fn asn1_time(t: DateTime<Utc>) -> Result<Asn1Time> {
    Asn1Time::from_unix(t.timestamp()).ctx("time")
}

/// RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime after.
fn der_time(t: DateTime<Utc>) -> Result<Time> {
    let since_epoch = std::time::Duration::from_secs(u64::try_from(t.timestamp()).ctx("time")?);
    Ok(if t.year() < 2050 {
        UtcTime::from_unix_duration(since_epoch).ctx("time")?.into()
    } else {
        GeneralizedTime::from_unix_duration(since_epoch)
            .ctx("time")?
            .into()
    })
}

/// A DER CRL v2 signed by `issuer` (SHA-256), with AKI and a CRL number. The number is
/// `this_update` in Unix seconds, so successive CRLs increase without keeping state.
pub fn build_crl(
    issuer: &Issued,
    revoked: &[(&X509, DateTime<Utc>)],
    this_update: DateTime<Utc>,
    next_update: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let algorithm = signature_algorithm(&issuer.key)?;
    let name_der = issuer.cert.subject_name().to_der().ctx("issuer name")?;
    let entries = revoked
        .iter()
        .map(|(cert, at)| {
            let serial = cert.serial_number().to_bn().ctx("serial")?.to_vec();
            Ok(RevokedCert {
                serial_number: SerialNumber::new(&serial).ctx("serial")?,
                revocation_date: der_time(*at)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut extensions = Vec::new();
    if let Some(ski) = issuer.cert.subject_key_id() {
        let aki = AkiExt {
            key_identifier: Some(OctetString::new(ski.as_slice()).ctx("AKI")?),
            ..Default::default()
        };
        extensions.push(extension(AkiExt::OID, &aki)?);
    }
    let number = u64::try_from(this_update.timestamp()).ctx("CRL number")?;
    let number = CrlNumber(Uint::new(&number.to_be_bytes()).ctx("CRL number")?);
    extensions.push(extension(CrlNumber::OID, &number)?);

    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: Name::from_der(&name_der).ctx("issuer name")?,
        this_update: der_time(this_update)?,
        next_update: Some(der_time(next_update)?),
        // RFC 5280: omit the list when it is empty.
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(extensions),
    };
    CertificateList {
        signature: sign_sha256(&issuer.key, &tbs.to_der().ctx("TBSCertList")?)?,
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
    }
    .to_der()
    .ctx("CRL")
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

fn extension(oid: const_oid::ObjectIdentifier, value: &impl Encode) -> Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value.to_der().ctx("extension")?).ctx("extension")?,
    })
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
        (yesterday, now + Duration::days(3652)),
        by(ROOT_NAME).as_ref(),
    )?;
    let tsa = certify(
        Some(&ca),
        &dev(TSA_CN),
        Some(Profile::TimeStamping),
        KeyAlgorithm::Rsa2048,
        (yesterday, now + Duration::days(3 * 365)),
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
            now + Duration::days(3 * 365),
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
                "expired" => (now - Duration::days(400), yesterday),
                _ => (yesterday, now + Duration::days(730)),
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
    let crl = build_crl(&ca, &revoked_at, now, now + Duration::days(30))?;
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
        &build_crl(&root, &[], now, now + Duration::days(30))?,
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
