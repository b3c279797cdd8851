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
pub const RSA_ENCRYPTION: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
pub const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
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
        for window in parts
            .iter()
            .flat_map(|part| crate::pdf::pages::windows(part))
        {
            hasher.update(window).map_err(|e| e.to_string())?;
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
#[rustfmt::skip]
static SIGNATURES: &[(ObjectIdentifier, Scheme, Option<ObjectIdentifier>)] = &[
    (RSA_ENCRYPTION, Scheme::Pkcs1, None),
    (oid("1.2.840.113549.1.1.5"), Scheme::Pkcs1, Some(SHA1)),
    (oid("1.2.840.113549.1.1.14"), Scheme::Pkcs1, Some(SHA224)),
    (oid("1.2.840.113549.1.1.11"), Scheme::Pkcs1, Some(SHA256)),
    (oid("1.2.840.113549.1.1.12"), Scheme::Pkcs1, Some(SHA384)),
    (oid("1.2.840.113549.1.1.13"), Scheme::Pkcs1, Some(SHA512)),
    (oid("2.16.840.1.101.3.4.3.13"), Scheme::Pkcs1, Some(SHA3_224)),
    (oid("2.16.840.1.101.3.4.3.14"), Scheme::Pkcs1, Some(SHA3_256)),
    (oid("2.16.840.1.101.3.4.3.15"), Scheme::Pkcs1, Some(SHA3_384)),
    (oid("2.16.840.1.101.3.4.3.16"), Scheme::Pkcs1, Some(SHA3_512)),
    (oid("1.2.840.113549.1.1.10"), Scheme::Pss, None),
    (oid("1.2.840.10045.2.1"), Scheme::Ecdsa, None),
    (oid("1.2.840.10045.4.1"), Scheme::Ecdsa, Some(SHA1)),
    (oid("1.2.840.10045.4.3.1"), Scheme::Ecdsa, Some(SHA224)),
    (ECDSA_WITH_SHA256, Scheme::Ecdsa, Some(SHA256)),
    (oid("1.2.840.10045.4.3.3"), Scheme::Ecdsa, Some(SHA384)),
    (oid("1.2.840.10045.4.3.4"), Scheme::Ecdsa, Some(SHA512)),
    (oid("2.16.840.1.101.3.4.3.9"), Scheme::Ecdsa, Some(SHA3_224)),
    (oid("2.16.840.1.101.3.4.3.10"), Scheme::Ecdsa, Some(SHA3_256)),
    (oid("2.16.840.1.101.3.4.3.11"), Scheme::Ecdsa, Some(SHA3_384)),
    (oid("2.16.840.1.101.3.4.3.12"), Scheme::Ecdsa, Some(SHA3_512)),
    (oid("0.4.0.127.0.7.1.1.4.1.1"), Scheme::EcdsaPlain, Some(SHA1)),
    (oid("0.4.0.127.0.7.1.1.4.1.2"), Scheme::EcdsaPlain, Some(SHA224)),
    (oid("0.4.0.127.0.7.1.1.4.1.3"), Scheme::EcdsaPlain, Some(SHA256)),
    (oid("0.4.0.127.0.7.1.1.4.1.4"), Scheme::EcdsaPlain, Some(SHA384)),
    (oid("0.4.0.127.0.7.1.1.4.1.5"), Scheme::EcdsaPlain, Some(SHA512)),
    (oid("0.4.0.127.0.7.1.1.4.1.8"), Scheme::EcdsaPlain, Some(SHA3_224)),
    (oid("0.4.0.127.0.7.1.1.4.1.9"), Scheme::EcdsaPlain, Some(SHA3_256)),
    (oid("0.4.0.127.0.7.1.1.4.1.10"), Scheme::EcdsaPlain, Some(SHA3_384)),
    (oid("0.4.0.127.0.7.1.1.4.1.11"), Scheme::EcdsaPlain, Some(SHA3_512)),
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
    for window in message
        .iter()
        .flat_map(|part| crate::pdf::pages::windows(part))
    {
        verifier.update(window).map_err(err)?;
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

#[cfg(test)]
mod tests {
    use der::Any;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::sign::Signer;

    use super::*;

    fn alg(oid: &str, parameters: Option<&[u8]>) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(oid),
            parameters: parameters.map(|der| Any::from_der(der).unwrap()),
        }
    }

    fn public(key: &PKey<Private>) -> PKey<Public> {
        PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap()
    }

    fn sha256() -> &'static Digest {
        Digest::by_oid(&SHA256).unwrap()
    }

    /// FIPS 202 appendix A / NIST CSRC examples: the digests of "abc".
    #[test]
    fn sha3_and_shake_known_answers() {
        for (oid, expected) in [
            (SHA3_224, "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"),
            (SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
            (SHA3_384, "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"),
            (SHA3_512, "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"),
            (SHAKE128, "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8"),
            (SHAKE256, "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4"),
        ] {
            let digest = Digest::by_oid(&oid).unwrap();
            // Split input: the parts are hashed as one message.
            assert_eq!(hex::encode(digest.hash(&[b"a", b"bc"]).unwrap()), expected, "{}", digest.name);
        }
    }

    /// RFC 8419 §2.3: id-shake256-len carries the output length in bits, and only 512 is allowed.
    #[test]
    fn shake_length_parameter() {
        let with_len = |bits: &[u8]| alg("2.16.840.1.101.3.4.2.18", Some(bits));
        let digest = Digest::from_identifier(&with_len(&[0x02, 0x02, 0x02, 0x00])).unwrap();
        assert_eq!(digest.hash(&[b"abc"]).unwrap().len(), 64);
        assert!(Digest::from_identifier(&with_len(&[0x02, 0x02, 0x01, 0x00])).is_err());
        assert!(Digest::from_identifier(&alg("2.16.840.1.101.3.4.2.18", None)).is_err());
        let nolen = Digest::from_identifier(&alg("2.16.840.1.101.3.4.2.12", None)).unwrap();
        assert_eq!(nolen.hash(&[b"abc"]).unwrap().len(), 64);
        assert!(Digest::by_oid(&SHA1).unwrap().weak);
        assert!(!sha256().weak);
    }

    fn check_eddsa(id: Id, oid: &str, public_key: &str, message: &str, signature: &str) {
        let key = PKey::public_key_from_raw_bytes(&hex::decode(public_key).unwrap(), id).unwrap();
        let message = hex::decode(message).unwrap();
        let signature = hex::decode(signature).unwrap();
        let alg = alg(oid, None);
        // RFC 8419 pairs the hash with the curve, whatever the SignerInfo says.
        let checked = verify(&key, &alg, sha256(), &[&message], &signature).unwrap();
        assert!(checked.valid, "{oid}");
        let mut tampered = message.clone();
        tampered.push(0);
        assert!(
            !verify(&key, &alg, sha256(), &[&tampered], &signature)
                .unwrap()
                .valid
        );
    }

    /// RFC 8032 §7.1 TEST 1 and TEST 2.
    #[test]
    fn ed25519_known_answers() {
        check_eddsa(
            Id::ED25519,
            "1.3.101.112",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        check_eddsa(
            Id::ED25519,
            "1.3.101.112",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        );
    }

    /// RFC 8032 §7.4 "Blank" and "1 octet".
    #[test]
    fn ed448_known_answers() {
        check_eddsa(
            Id::ED448,
            "1.3.101.113",
            "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180",
            "",
            "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600",
        );
        check_eddsa(
            Id::ED448,
            "1.3.101.113",
            "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480",
            "03",
            "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00",
        );
    }

    /// An Ed25519 OID with an Ed448 key is refused, not tried.
    #[test]
    fn algorithm_must_fit_the_key() {
        let key = public(&PKey::generate_ed448().unwrap());
        assert!(verify(
            &key,
            &alg("1.3.101.112", None),
            sha256(),
            &[b"x"],
            &[0; 114]
        )
        .is_err());
        let unknown = alg("1.2.3.4", None);
        assert!(verify(&key, &unknown, sha256(), &[b"x"], &[0; 114]).is_err());
    }

    /// r = 1 (leading zero octets dropped), s = 2^255 (a zero octet added to stay positive).
    #[test]
    fn plain_ecdsa_becomes_der() {
        let mut plain = vec![0u8; 64];
        plain[31] = 1;
        plain[32] = 0x80;
        let mut expected = vec![0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00, 0x80];
        expected.extend([0; 31]);
        assert_eq!(plain_ecdsa_to_der(&plain).unwrap(), expected);
        assert!(plain_ecdsa_to_der(&plain[..63]).is_err());
        assert!(plain_ecdsa_to_der(&[]).is_err());
    }

    /// SHA-256, MGF1 with SHA-256, 32 octets of salt (RFC 4055 §3.1 encoding).
    const PSS_SHA256: &str = "3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120";

    #[test]
    fn pss_parameters_parse() {
        let params = PssParams::from_identifier(&alg(
            "1.2.840.113549.1.1.10",
            Some(&hex::decode(PSS_SHA256).unwrap()),
        ))
        .unwrap();
        assert_eq!(
            (params.hash.name, params.mgf1.name, params.salt_len),
            ("SHA-256", "SHA-256", 32)
        );
        // All defaults: SHA-1, MGF1 with SHA-1, 20 octets of salt.
        let params =
            PssParams::from_identifier(&alg("1.2.840.113549.1.1.10", Some(&[0x30, 0x00]))).unwrap();
        assert_eq!(
            (params.hash.name, params.mgf1.name, params.salt_len),
            ("SHA-1", "SHA-1", 20)
        );
        // Trailer field 2 does not exist (RFC 8017 A.2.3).
        assert!(PssParams::from_identifier(&alg(
            "1.2.840.113549.1.1.10",
            Some(&[0x30, 0x05, 0xa3, 0x03, 0x02, 0x01, 0x02])
        ))
        .is_err());
        assert!(PssParams::from_identifier(&alg("1.2.840.113549.1.1.10", None)).is_err());
    }

    fn sign(
        key: &PKey<Private>,
        md: MessageDigest,
        message: &[u8],
        pss_salt: Option<i32>,
    ) -> Vec<u8> {
        let mut signer = Signer::new(md, key).unwrap();
        if let Some(salt) = pss_salt {
            signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
            signer.set_rsa_mgf1_md(md).unwrap();
            signer
                .set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt))
                .unwrap();
        }
        signer.sign_oneshot_to_vec(message).unwrap()
    }

    #[test]
    fn rsa_pss_and_rsa_sha3_signed_by_openssl_verify() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let public = public(&key);
        let message: &[u8] = b"signed attributes";
        let pss = alg(
            "1.2.840.113549.1.1.10",
            Some(&hex::decode(PSS_SHA256).unwrap()),
        );
        let good = sign(&key, MessageDigest::sha256(), message, Some(32));
        let checked = verify(
            &public,
            &pss,
            sha256(),
            &[&message[..8], &message[8..]],
            &good,
        )
        .unwrap();
        assert!(checked.valid);
        // Another salt length than the parameters state does not verify.
        let other_salt = sign(&key, MessageDigest::sha256(), message, Some(20));
        assert!(
            !verify(&public, &pss, sha256(), &[message], &other_salt)
                .unwrap()
                .valid
        );

        let sha3 = sign(&key, MessageDigest::sha3_256(), message, None);
        let rsa_sha3 = alg("2.16.840.1.101.3.4.3.14", None);
        let checked = verify(&public, &rsa_sha3, sha256(), &[message], &sha3).unwrap();
        assert!(checked.valid);
        assert_eq!(checked.hash.name, "SHA3-256");
        // The same signature under sha256WithRSAEncryption is wrong.
        assert!(
            !verify(
                &public,
                &alg("1.2.840.113549.1.1.11", None),
                sha256(),
                &[message],
                &sha3
            )
            .unwrap()
            .valid
        );
    }

    /// A key whose SubjectPublicKeyInfo says id-RSASSA-PSS (RFC 4055 §1.2) is read as such:
    /// PSS verifies, PKCS#1 v1.5 is refused for it.
    #[test]
    fn rsa_pss_key_type() {
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new_id(Id::RSA_PSS).unwrap();
        ctx.keygen_init().unwrap();
        ctx.set_rsa_keygen_bits(2048).unwrap();
        let key = ctx.keygen().unwrap();
        let public = public(&key);
        assert_eq!(public.id(), Id::RSA_PSS);
        let message: &[u8] = b"signed attributes";
        let pss = alg(
            "1.2.840.113549.1.1.10",
            Some(&hex::decode(PSS_SHA256).unwrap()),
        );
        let signature = sign(&key, MessageDigest::sha256(), message, Some(32));
        assert!(
            verify(&public, &pss, sha256(), &[message], &signature)
                .unwrap()
                .valid
        );
        let pkcs1 = alg("1.2.840.113549.1.1.11", None);
        assert!(verify(&public, &pkcs1, sha256(), &[message], &signature).is_err());
    }

    fn ec_key(curve: Nid) -> PKey<Private> {
        PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(curve).unwrap()).unwrap())
            .unwrap()
    }

    #[test]
    fn ecdsa_sha3_brainpool_and_dsa_signed_by_openssl_verify() {
        let message: &[u8] = b"signed attributes";
        let dsa = PKey::from_dsa(openssl::dsa::Dsa::generate(2048).unwrap()).unwrap();
        for (key, md, oid) in [
            (
                ec_key(Nid::X9_62_PRIME256V1),
                MessageDigest::sha3_256(),
                "2.16.840.1.101.3.4.3.10",
            ),
            (
                ec_key(Nid::BRAINPOOL_P384R1),
                MessageDigest::sha3_384(),
                "2.16.840.1.101.3.4.3.11",
            ),
            (
                ec_key(Nid::BRAINPOOL_P256R1),
                MessageDigest::sha256(),
                "1.2.840.10045.4.3.2",
            ),
            (dsa, MessageDigest::sha256(), "2.16.840.1.101.3.4.3.2"),
        ] {
            let signature = sign(&key, md, message, None);
            let public = public(&key);
            let alg = alg(oid, None);
            assert!(
                verify(&public, &alg, sha256(), &[message], &signature)
                    .unwrap()
                    .valid,
                "{oid}"
            );
            assert!(
                !verify(&public, &alg, sha256(), &[b"other"], &signature)
                    .unwrap()
                    .valid
            );
        }
    }

    #[test]
    fn plain_ecdsa_signed_by_openssl_verifies() {
        let key = ec_key(Nid::X9_62_PRIME256V1);
        let message: &[u8] = b"signed attributes";
        let der = sign(&key, MessageDigest::sha256(), message, None);
        let sig = EcdsaSig::from_der(&der).unwrap();
        let mut plain = sig.r().to_vec_padded(32).unwrap();
        plain.extend(sig.s().to_vec_padded(32).unwrap());
        let public = public(&key);
        let ecdsa_plain_sha256 = alg("0.4.0.127.0.7.1.1.4.1.3", None);
        assert!(
            verify(&public, &ecdsa_plain_sha256, sha256(), &[message], &plain)
                .unwrap()
                .valid
        );
        // The DER form under the plain OID is not r‖s.
        assert!(
            verify(&public, &ecdsa_plain_sha256, sha256(), &[message], &der)
                .map_or(true, |c| !c.valid)
        );
    }
}
