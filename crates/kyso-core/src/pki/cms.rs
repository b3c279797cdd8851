//! CMS SignedData for PAdES and RFC 3161 tokens.
//!
//! The structures come from the RustCrypto `cms`/`der` crates; openssl only computes the raw
//! signature. We assemble SignedData ourselves because PAdES needs an exact attribute profile
//! (contentType, messageDigest, signingCertificateV2 and no signingTime) that neither the
//! `openssl` crate nor `cms::builder` lets us state directly, and because the signature
//! timestamp is an unsigned attribute added after signing.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use crate::error::{Error, Result};
use crate::pki::{algorithms, Certificate};

/// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ct-TSTInfo.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// What makes the raw signature: a private key in memory, or one on a token that signs inside.
pub trait RawSigner: Send + Sync {
    /// The SHA-256 signature of `data` matching the certificate's key: PKCS#1 v1.5 for RSA,
    /// DER-encoded ECDSA for EC.
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>>;
}

impl RawSigner for PKey<Private> {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut signer =
            openssl::sign::Signer::new(MessageDigest::sha256(), self).map_err(Error::internal)?;
        signer.update(data).map_err(Error::internal)?;
        signer.sign_to_vec().map_err(Error::internal)
    }
}

/// A key shared by the signatures made while it stays unlocked.
impl<T: RawSigner + ?Sized> RawSigner for std::sync::Arc<T> {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        (**self).sign(data)
    }
}

/// A private key with its certificate and the chain above it (root excluded), unlocked for
/// one signing operation.
pub struct SigningKey {
    pub key: Box<dyn RawSigner>,
    pub certificate: Certificate,
    pub chain: Vec<Certificate>,
}

impl SigningKey {
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.key.sign(data)
    }

    /// Upper bound of the DER signature size, for sizing placeholders.
    pub fn max_signature_len(&self) -> Result<usize> {
        max_signature_len(&self.certificate)
    }
}

/// Upper bound of the DER size of a signature by `certificate`'s key.
pub fn max_signature_len(certificate: &Certificate) -> Result<usize> {
    Ok(certificate
        .x509()
        .public_key()
        .map_err(Error::internal)?
        .size())
}

/// The SignerInfo's signatureAlgorithm for `certificate`'s key: RSA PKCS#1 v1.5 (named by
/// rsaEncryption, as PAdES signers write it) or ECDSA, both with SHA-256.
pub fn signature_algorithm(certificate: &Certificate) -> Result<AlgorithmIdentifierOwned> {
    match certificate
        .x509()
        .public_key()
        .map_err(Error::internal)?
        .id()
    {
        Id::RSA => Ok(AlgorithmIdentifierOwned {
            oid: algorithms::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        }),
        Id::EC => Ok(AlgorithmIdentifierOwned {
            oid: algorithms::ECDSA_WITH_SHA256,
            parameters: None,
        }),
        other => Err(Error::InvalidInput(format!(
            "keys of type {other:?} cannot sign here: RSA or ECDSA P-256 only"
        ))),
    }
}

/// What the signature is over.
pub enum Content<'a> {
    /// Detached `id-data` content given by its SHA-256 digest (PAdES: the PDF's byte ranges).
    Detached { digest: &'a [u8] },
    /// Encapsulated content of another type (RFC 3161: the DER TSTInfo).
    Encapsulated {
        content_type: ObjectIdentifier,
        der: &'a [u8],
    },
}

/// ESSCertIDv2 with the default hash algorithm (SHA-256), which DER requires us to omit.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn der_err(e: der::Error) -> Error {
    Error::internal(format!("DER encoding: {e}"))
}

/// Read window by window (`pages`): the data may be a mapped upload of 50 MB, whose pages
/// are then given back as they are hashed.
pub fn sha256(data: &[u8]) -> Result<Vec<u8>> {
    let mut hasher = openssl::sha::Sha256::new();
    for window in crate::pdf::pages::windows(data) {
        hasher.update(window);
    }
    Ok(hasher.finish().to_vec())
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Result<Attribute> {
    let value = Any::from_der(&value.to_der().map_err(der_err)?).map_err(der_err)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(der_err)?,
    })
}

/// Builds and signs a SignedData. The result can still take unsigned attributes (the
/// signature timestamp) before it is encoded.
pub fn sign(content: Content<'_>, key: &SigningKey) -> Result<SignedData> {
    let unsigned = Unsigned::new(content, &key.certificate)?;
    let signature = key.sign(&unsigned.to_sign()?)?;
    unsigned.finish(signature, &key.certificate, &key.chain)
}

/// A SignerInfo waiting for its signature value: what the signer is asked to sign. Two-step
/// signing hands `to_sign` to a key kyso never sees and finishes with the value it returns.
pub struct Unsigned {
    content_type: ObjectIdentifier,
    econtent: Option<Any>,
    signed_attrs: SetOfVec<Attribute>,
}

impl Unsigned {
    /// contentType, messageDigest and signingCertificateV2 (no signingTime: PAdES keeps the
    /// claimed time in the signature dictionary's /M).
    pub fn new(content: Content<'_>, certificate: &Certificate) -> Result<Self> {
        let (content_type, digest, econtent) = match content {
            Content::Detached { digest } => (ID_DATA, digest.to_vec(), None),
            Content::Encapsulated { content_type, der } => {
                let econtent =
                    Any::encode_from(&OctetString::new(der).map_err(der_err)?).map_err(der_err)?;
                (content_type, sha256(der)?, Some(econtent))
            }
        };
        let signer_cert = certificate.structure()?;
        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(sha256(certificate.der())?).map_err(der_err)?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(
                        signer_cert.tbs_certificate.issuer.clone(),
                    )],
                    serial_number: signer_cert.tbs_certificate.serial_number.clone(),
                },
            }],
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, content_type)?,
            attribute(
                ID_MESSAGE_DIGEST,
                OctetString::new(digest).map_err(der_err)?,
            )?,
            attribute(ID_AA_SIGNING_CERTIFICATE_V_2, ess)?,
        ])
        .map_err(der_err)?;
        Ok(Unsigned {
            content_type,
            econtent,
            signed_attrs,
        })
    }

    /// A detached (`id-data`) signature's signed attributes as `to_sign` gave them out.
    pub fn detached(to_sign: &[u8]) -> Result<Self> {
        Ok(Unsigned {
            content_type: ID_DATA,
            econtent: None,
            signed_attrs: SetOfVec::from_der(to_sign).map_err(der_err)?,
        })
    }

    /// What the signature value is computed over: the DER of the attributes as a SET OF
    /// (tag 0x31), not the [0] IMPLICIT form they take inside SignerInfo.
    pub fn to_sign(&self) -> Result<Vec<u8>> {
        self.signed_attrs.to_der().map_err(der_err)
    }

    /// The SignedData with `signature` (the raw value over `to_sign`, ECDSA as DER), the
    /// signer's certificate and the chain above it.
    pub fn finish(
        self,
        signature: Vec<u8>,
        certificate: &Certificate,
        chain: &[Certificate],
    ) -> Result<SignedData> {
        let sha256_alg = AlgorithmIdentifierOwned {
            oid: algorithms::SHA256,
            parameters: None,
        };
        let signer_cert = certificate.structure()?;
        let mut certificates = vec![CertificateChoices::Certificate(signer_cert.clone())];
        for ca in chain {
            certificates.push(CertificateChoices::Certificate(ca.structure()?.clone()));
        }
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: signer_cert.tbs_certificate.issuer.clone(),
                serial_number: signer_cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: sha256_alg.clone(),
            signed_attrs: Some(self.signed_attrs),
            signature_algorithm: signature_algorithm(certificate)?,
            signature: OctetString::new(signature).map_err(der_err)?,
            unsigned_attrs: None,
        };
        Ok(SignedData {
            // RFC 5652 §5.1: version 3 whenever the encapsulated content is not id-data.
            version: if self.content_type == ID_DATA {
                CmsVersion::V1
            } else {
                CmsVersion::V3
            },
            digest_algorithms: SetOfVec::try_from(vec![sha256_alg]).map_err(der_err)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: self.content_type,
                econtent: self.econtent,
            },
            certificates: Some(CertificateSet::try_from(certificates).map_err(der_err)?),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(der_err)?,
        })
    }
}

/// The SHA-256 certificate hashes a signingCertificateV2 attribute names (RFC 5035), for
/// matching a signature someone else assembled to the certificate it must be by. A hash of
/// another algorithm is refused rather than recomputed: PAdES signers use SHA-256.
pub fn signing_certificate_hashes(attrs: &SetOfVec<Attribute>) -> Result<Vec<Vec<u8>>, String> {
    #[derive(Sequence)]
    struct AnyEssCertIdV2 {
        #[asn1(optional = "true")]
        hash_algorithm: Option<AlgorithmIdentifierOwned>,
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        issuer_serial: Option<Any>,
    }
    #[derive(Sequence)]
    struct AnySigningCertificateV2 {
        certs: Vec<AnyEssCertIdV2>,
        #[asn1(optional = "true")]
        policies: Option<Any>,
    }
    let attr = attrs
        .iter()
        .find(|a| a.oid == ID_AA_SIGNING_CERTIFICATE_V_2)
        .ok_or("no signingCertificateV2 attribute")?;
    let mut hashes = Vec::new();
    for value in attr.values.iter() {
        let parsed: AnySigningCertificateV2 = value
            .decode_as()
            .map_err(|e| format!("signingCertificateV2: {e}"))?;
        for id in parsed.certs {
            if id
                .hash_algorithm
                .is_some_and(|alg| alg.oid != algorithms::SHA256)
            {
                return Err("signingCertificateV2 must hash the certificate with SHA-256".into());
            }
            hashes.push(id.cert_hash.into_bytes());
        }
    }
    Ok(hashes)
}

/// The signature value of the (single) signer, which a signature timestamp is computed over.
pub fn signature_value(signed_data: &SignedData) -> Result<Vec<u8>> {
    signed_data
        .signer_infos
        .0
        .get(0)
        .map(|si| si.signature.as_bytes().to_vec())
        .ok_or_else(|| Error::internal("SignedData without signer"))
}

/// Adds an RFC 3161 token (a DER ContentInfo) as the signer's signature timestamp.
pub fn add_signature_timestamp(signed_data: SignedData, token_der: &[u8]) -> Result<SignedData> {
    let token = Any::from_der(token_der).map_err(der_err)?;
    let attr = Attribute {
        oid: ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values: SetOfVec::try_from(vec![token]).map_err(der_err)?,
    };
    let mut infos: Vec<SignerInfo> = signed_data.signer_infos.0.into_vec();
    let info = infos
        .first_mut()
        .ok_or_else(|| Error::internal("SignedData without signer"))?;
    info.unsigned_attrs = Some(SetOfVec::try_from(vec![attr]).map_err(der_err)?);
    Ok(SignedData {
        signer_infos: SignerInfos::try_from(infos).map_err(der_err)?,
        ..signed_data
    })
}

/// Wraps SignedData in a ContentInfo and encodes it.
pub fn to_der(signed_data: &SignedData) -> Result<Vec<u8>> {
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(signed_data).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}
