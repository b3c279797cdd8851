//! The digest and signature algorithms a CMS signer may name (RFC 5652 §5.3), one table each,
//! and signature verification with OpenSSL for every entry of the tables.
//!
//! Sources of the identifiers: RFC 3370/5754 (SHA-1, SHA-2), NIST CSOR (SHA-3, SHAKE, and the
//! ECDSA/RSA/DSA-with-SHA3 signatures), RFC 4056 (RSASSA-PSS), RFC 5758 (ECDSA, DSA),
//! RFC 8419 (EdDSA in CMS), RFC 8702 (SHAKE in CMS), BSI TR-03111 §5.2.1 (plain ECDSA).

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::{Id, PKeyRef, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use spki::AlgorithmIdentifierOwned;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

pub const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
pub const SHA224: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.4");
pub const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
pub const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
pub const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");
pub const SHA3_224: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.7");
pub const SHA3_256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.8");
pub const SHA3_384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.9");
pub const SHA3_512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.10");
pub const SHAKE128: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.11");
pub const SHAKE256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.12");
pub const SHAKE128_LEN: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.17");
pub const SHAKE256_LEN: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.18");
const ED25519: ObjectIdentifier = oid("1.3.101.112");
const ED448: ObjectIdentifier = oid("1.3.101.113");

/// A message digest algorithm.
pub struct Digest {
    pub name: &'static str,
    pub oid: ObjectIdentifier,
    md: fn() -> MessageDigest,
    /// Output length in bytes of an extendable-output function: RFC 8702 §2 fixes 256 bits for
    /// id-shake128 and 512 bits for id-shake256; the `-len` forms carry it as a parameter.
    xof_len: Option<usize>,
    /// Collisions can be found (SHA-1, SHAttered 2017): the evidence is weak.
    pub weak: bool,
}

const fn digest(name: &'static str, oid: ObjectIdentifier, md: fn() -> MessageDigest) -> Digest {
    Digest {
        name,
        oid,
        md,
        xof_len: None,
        weak: false,
    }
}

const fn xof(
    name: &'static str,
    oid: ObjectIdentifier,
    md: fn() -> MessageDigest,
    bytes: usize,
) -> Digest {
    Digest {
        xof_len: Some(bytes),
        ..digest(name, oid, md)
    }
}

static DIGESTS: &[Digest] = &[
    Digest {
        weak: true,
        ..digest("SHA-1", SHA1, MessageDigest::sha1)
    },
    digest("SHA-224", SHA224, MessageDigest::sha224),
    digest("SHA-256", SHA256, MessageDigest::sha256),
    digest("SHA-384", SHA384, MessageDigest::sha384),
    digest("SHA-512", SHA512, MessageDigest::sha512),
    digest("SHA3-224", SHA3_224, MessageDigest::sha3_224),
    digest("SHA3-256", SHA3_256, MessageDigest::sha3_256),
    digest("SHA3-384", SHA3_384, MessageDigest::sha3_384),
    digest("SHA3-512", SHA3_512, MessageDigest::sha3_512),
    xof("SHAKE128", SHAKE128, MessageDigest::shake_128, 32),
    xof("SHAKE256", SHAKE256, MessageDigest::shake_256, 64),
    xof("SHAKE128", SHAKE128_LEN, MessageDigest::shake_128, 32),
    xof("SHAKE256", SHAKE256_LEN, MessageDigest::shake_256, 64),
];

impl Digest {
    /// The digest an AlgorithmIdentifier names. For id-shake*-len the parameter is the output
    /// length in bits (RFC 8419 §2.3, RFC 8702 §2).
    pub fn from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<&'static Digest, String> {
        let digest = Digest::by_oid(&alg.oid)?;
        if alg.oid == SHAKE128_LEN || alg.oid == SHAKE256_LEN {
            let bits = alg
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<u64>().ok());
            if bits != digest.xof_len.and_then(|b| u64::try_from(b * 8).ok()) {
                return Err(format!(
                    "{} with an output length other than RFC 8702's",
                    digest.name
                ));
            }
        }
        Ok(digest)
    }

    pub fn by_oid(oid: &ObjectIdentifier) -> Result<&'static Digest, String> {
        DIGESTS
            .iter()
            .find(|d| d.oid == *oid)
            .ok_or_else(|| format!("unsupported digest algorithm {oid}"))
    }

    /// The digest of the concatenated parts.
    pub fn hash(&self, parts: &[&[u8]]) -> Result<Vec<u8>, String> {
        let mut hasher = Hasher::new((self.md)()).map_err(|e| e.to_string())?;
        for part in parts {
            hasher.update(part).map_err(|e| e.to_string())?;
        }
        match self.xof_len {
            Some(len) => {
                let mut out = vec![0; len];
                hasher.finish_xof(&mut out).map_err(|e| e.to_string())?;
                Ok(out)
            }
            None => Ok(hasher.finish().map_err(|e| e.to_string())?.to_vec()),
        }
    }
}

/// How a signature value is computed from the message.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Scheme {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    Pkcs1,
    /// RSASSA-PSS with its parameters in the AlgorithmIdentifier (RFC 4056).
    Pss,
    /// ECDSA with a DER Ecdsa-Sig-Value (RFC 5758 §3.2).
    Ecdsa,
    /// ECDSA with r‖s, each as long as the group order (BSI TR-03111 §5.2.1).
    EcdsaPlain,
    Dsa,
    /// Pure EdDSA over the message itself, no pre-hash (RFC 8419 §3).
    EdDsa,
}

/// Signature algorithms: the OID, the scheme and, where the OID names one, the hash; otherwise
/// the SignerInfo's digestAlgorithm applies (rsaEncryption, id-ecPublicKey).
static SIGNATURES: &[(ObjectIdentifier, Scheme, Option<ObjectIdentifier>)] = &[
    (oid("1.2.840.113549.1.1.1"), Scheme::Pkcs1, None),
    (oid("1.2.840.113549.1.1.5"), Scheme::Pkcs1, Some(SHA1)),
    (oid("1.2.840.113549.1.1.14"), Scheme::Pkcs1, Some(SHA224)),
    (oid("1.2.840.113549.1.1.11"), Scheme::Pkcs1, Some(SHA256)),
    (oid("1.2.840.113549.1.1.12"), Scheme::Pkcs1, Some(SHA384)),
    (oid("1.2.840.113549.1.1.13"), Scheme::Pkcs1, Some(SHA512)),
    (
        oid("2.16.840.1.101.3.4.3.13"),
        Scheme::Pkcs1,
        Some(SHA3_224),
    ),
    (
        oid("2.16.840.1.101.3.4.3.14"),
        Scheme::Pkcs1,
        Some(SHA3_256),
    ),
    (
        oid("2.16.840.1.101.3.4.3.15"),
        Scheme::Pkcs1,
        Some(SHA3_384),
    ),
    (
        oid("2.16.840.1.101.3.4.3.16"),
        Scheme::Pkcs1,
        Some(SHA3_512),
    ),
    (oid("1.2.840.113549.1.1.10"), Scheme::Pss, None),
    (oid("1.2.840.10045.2.1"), Scheme::Ecdsa, None),
    (oid("1.2.840.10045.4.1"), Scheme::Ecdsa, Some(SHA1)),
    (oid("1.2.840.10045.4.3.1"), Scheme::Ecdsa, Some(SHA224)),
    (oid("1.2.840.10045.4.3.2"), Scheme::Ecdsa, Some(SHA256)),
    (oid("1.2.840.10045.4.3.3"), Scheme::Ecdsa, Some(SHA384)),
    (oid("1.2.840.10045.4.3.4"), Scheme::Ecdsa, Some(SHA512)),
    (oid("2.16.840.1.101.3.4.3.9"), Scheme::Ecdsa, Some(SHA3_224)),
    (
        oid("2.16.840.1.101.3.4.3.10"),
        Scheme::Ecdsa,
        Some(SHA3_256),
    ),
    (
        oid("2.16.840.1.101.3.4.3.11"),
        Scheme::Ecdsa,
        Some(SHA3_384),
    ),
    (
        oid("2.16.840.1.101.3.4.3.12"),
        Scheme::Ecdsa,
        Some(SHA3_512),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.1"),
        Scheme::EcdsaPlain,
        Some(SHA1),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.2"),
        Scheme::EcdsaPlain,
        Some(SHA224),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.3"),
        Scheme::EcdsaPlain,
        Some(SHA256),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.4"),
        Scheme::EcdsaPlain,
        Some(SHA384),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.5"),
        Scheme::EcdsaPlain,
        Some(SHA512),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.8"),
        Scheme::EcdsaPlain,
        Some(SHA3_224),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.9"),
        Scheme::EcdsaPlain,
        Some(SHA3_256),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.10"),
        Scheme::EcdsaPlain,
        Some(SHA3_384),
    ),
    (
        oid("0.4.0.127.0.7.1.1.4.1.11"),
        Scheme::EcdsaPlain,
        Some(SHA3_512),
    ),
    (oid("1.2.840.10040.4.1"), Scheme::Dsa, None),
    (oid("1.2.840.10040.4.3"), Scheme::Dsa, Some(SHA1)),
    (oid("2.16.840.1.101.3.4.3.1"), Scheme::Dsa, Some(SHA224)),
    (oid("2.16.840.1.101.3.4.3.2"), Scheme::Dsa, Some(SHA256)),
    (ED25519, Scheme::EdDsa, Some(SHA512)),
    (ED448, Scheme::EdDsa, Some(SHAKE256)),
];

/// What a signature verification used, for the report.
pub struct Checked {
    pub valid: bool,
    /// The hash the signature was computed with (for EdDSA, the one RFC 8419 pairs with it).
    pub hash: &'static Digest,
}

/// Verifies `signature` over the concatenated `message` parts with the signer's `key`, as
/// the SignerInfo's `algorithm` says; `digest` is its digestAlgorithm, used when the
/// signature algorithm names no hash of its own.
pub fn verify(
    key: &PKeyRef<Public>,
    algorithm: &AlgorithmIdentifierOwned,
    digest: &'static Digest,
    message: &[&[u8]],
    signature: &[u8],
) -> Result<Checked, String> {
    let &(_, scheme, named) = SIGNATURES
        .iter()
        .find(|(oid, ..)| *oid == algorithm.oid)
        .ok_or_else(|| format!("unsupported signature algorithm {}", algorithm.oid))?;
    let fits = match scheme {
        Scheme::Pkcs1 => key.id() == Id::RSA,
        Scheme::Pss => matches!(key.id(), Id::RSA | Id::RSA_PSS),
        Scheme::Ecdsa | Scheme::EcdsaPlain => key.id() == Id::EC,
        Scheme::Dsa => key.id() == Id::DSA,
        Scheme::EdDsa => {
            (algorithm.oid == ED25519 && key.id() == Id::ED25519)
                || (algorithm.oid == ED448 && key.id() == Id::ED448)
        }
    };
    if !fits {
        return Err(format!(
            "signature algorithm {} does not fit the signer's {:?} key",
            algorithm.oid,
            key.id()
        ));
    }
    let err = |e: openssl::error::ErrorStack| e.to_string();
    let pss = match scheme {
        Scheme::Pss => Some(PssParams::from_identifier(algorithm)?),
        _ => None,
    };
    let hash = match (&pss, named) {
        (Some(pss), _) => pss.hash,
        (None, Some(named)) => Digest::by_oid(&named)?,
        (None, None) => digest,
    };
    if scheme == Scheme::EdDsa {
        let mut verifier = Verifier::new_without_digest(key).map_err(err)?;
        let valid = verifier
            .verify_oneshot(signature, &message.concat())
            .map_err(err)?;
        return Ok(Checked { valid, hash });
    }
    if hash.xof_len.is_some() {
        return Err(format!("{} is only supported with EdDSA", hash.name));
    }
    let der_signature;
    let signature = if scheme == Scheme::EcdsaPlain {
        der_signature = plain_ecdsa_to_der(signature)?;
        &der_signature[..]
    } else {
        signature
    };
    let mut verifier = Verifier::new((hash.md)(), key).map_err(err)?;
    if let Some(pss) = &pss {
        verifier.set_rsa_padding(Padding::PKCS1_PSS).map_err(err)?;
        verifier.set_rsa_mgf1_md((pss.mgf1.md)()).map_err(err)?;
        verifier
            .set_rsa_pss_saltlen(RsaPssSaltlen::custom(i32::from(pss.salt_len)))
            .map_err(err)?;
    }
    for part in message {
        verifier.update(part).map_err(err)?;
    }
    // A malformed signature value is an invalid signature, not an unreadable file.
    let valid = verifier.verify(signature).unwrap_or(false);
    Ok(Checked { valid, hash })
}

/// BSI TR-03111 §5.2.1 writes an ECDSA signature as the octet strings of r and s, each as
/// long as the group order, back to back; OpenSSL reads only the DER Ecdsa-Sig-Value.
pub fn plain_ecdsa_to_der(signature: &[u8]) -> Result<Vec<u8>, String> {
    if signature.is_empty() || !signature.len().is_multiple_of(2) {
        return Err("plain ECDSA signature of odd length".into());
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let err = |e: openssl::error::ErrorStack| e.to_string();
    let r = BigNum::from_slice(r).map_err(err)?;
    let s = BigNum::from_slice(s).map_err(err)?;
    EcdsaSig::from_private_components(r, s)
        .and_then(|sig| sig.to_der())
        .map_err(err)
}

/// RSASSA-PSS-params (RFC 4056 §3, RFC 8017 appendix A.2.3), with their defaults filled in.
pub struct PssParams {
    pub hash: &'static Digest,
    pub mgf1: &'static Digest,
    pub salt_len: u8,
}

impl PssParams {
    pub fn from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<PssParams, String> {
        let der = alg
            .parameters
            .as_ref()
            .ok_or("RSASSA-PSS without parameters")?
            .to_der()
            .map_err(|e| e.to_string())?;
        let params =
            pkcs1::RsaPssParams::from_der(&der).map_err(|e| format!("RSASSA-PSS-params: {e}"))?;
        if params.mask_gen.oid != const_oid::db::rfc5912::ID_MGF_1 {
            return Err(format!(
                "RSASSA-PSS mask generation {} is not MGF1",
                params.mask_gen.oid
            ));
        }
        let mgf1 = params
            .mask_gen
            .parameters
            .as_ref()
            .ok_or("MGF1 without its hash")?;
        Ok(PssParams {
            hash: Digest::by_oid(&params.hash.oid)?,
            mgf1: Digest::by_oid(&mgf1.oid)?,
            salt_len: params.salt_len,
        })
    }
}
