//! The CMS side of a signature: parse SignedData, check the signed digest and the signature
//! value, describe the signer's certificate, and validate an RFC 3161 token.

use ::cms::cert::CertificateChoices;
use ::cms::content_info::ContentInfo;
use ::cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::ID_MESSAGE_DIGEST;
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString};
use der::{Any, Decode, Encode, Reader, Tag, Tagged};
use x509_tsp::MessageImprint;

use super::carried::{self, Carried, RawSignedData};
use super::report::{CertificateInfo, Checks, SubIndication};
use crate::pki::algorithms::{self, Digest};
use crate::pki::certificate::Certificate;
use crate::pki::cms::{ID_AA_SIGNATURE_TIME_STAMP_TOKEN, ID_CT_TST_INFO};

/// A parsed CMS signature.
pub struct Cms {
    pub signed_data: SignedData,
    pub signer_info: SignerInfo,
    /// The signer's certificate, when the signature carries it.
    pub signer: Option<Certificate>,
    /// Every certificate in the signature (for chain building).
    pub certificates: Vec<Certificate>,
    /// The revocation data it carries itself.
    pub revocation: Carried,
}

/// The blob may be zero-padded after its end (the /Contents placeholder), and older signers
/// (Adobe's adbe.pkcs7.detached) write BER with indefinite lengths, which the `der` crate
/// refuses: openssl reads BER and re-encodes it as DER. The signed attributes are DER by
/// requirement (RFC 5652 §5.4), so re-encoding leaves what was signed unchanged.
pub fn parse(contents: &[u8]) -> Result<Cms, String> {
    let der_len = der::SliceReader::new(contents)
        .and_then(|mut reader| der::Header::decode(&mut reader))
        .and_then(|h| h.encoded_len()? + h.length)
        .ok()
        .and_then(|len| usize::try_from(len).ok())
        .filter(|&len| len <= contents.len());
    let reencoded;
    let der = match der_len {
        Some(len) => &contents[..len],
        None => {
            reencoded = openssl::cms::CmsContentInfo::from_der(contents)
                .and_then(|cms| cms.to_der())
                .map_err(|_| "/Contents is not a CMS structure")?;
            &reencoded[..]
        }
    };
    let info = ContentInfo::from_der(der).map_err(|e| format!("CMS: {e}"))?;
    let (signed_data, revocation_choices) = info
        .content
        .decode_as::<RawSignedData>()
        .map_err(|e| format!("CMS SignedData: {e}"))?
        .split();
    let signer_info = signed_data
        .signer_infos
        .0
        .get(0)
        .cloned()
        .ok_or("CMS without a signer")?;
    let mut certificates = Vec::new();
    let mut signer = None;
    for choice in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        let CertificateChoices::Certificate(cert) = choice else {
            continue;
        };
        let Ok(certificate) = Certificate::from_structure(cert.clone()) else {
            continue;
        };
        let is_signer = match &signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                cert.tbs_certificate.issuer == isn.issuer
                    && cert.tbs_certificate.serial_number == isn.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => certificate
                .x509()
                .subject_key_id()
                .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
        };
        if is_signer && signer.is_none() {
            signer = Some(certificate.clone());
        }
        certificates.push(certificate);
    }
    let revocation = carried::read(&revocation_choices, &signer_info);
    Ok(Cms {
        signed_data,
        signer_info,
        signer,
        certificates,
        revocation,
    })
}

impl Cms {
    /// The signer's digest algorithm. SHA-1 is still read: old signatures use it, and the
    /// validity of the evidence is for the report to judge, not the parser.
    pub fn digest_algorithm(&self) -> Result<&'static Digest, String> {
        Digest::from_identifier(&self.signer_info.digest_alg)
    }

    /// The encapsulated content (RFC 5652 §5.2), when the CMS carries one.
    pub fn encapsulated_content(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(econtent) = &self.signed_data.encap_content_info.econtent else {
            return Ok(None);
        };
        let octets: OctetString = econtent
            .decode_as()
            .map_err(|e| format!("encapsulated content: {e}"))?;
        Ok(Some(octets.into_bytes()))
    }

    /// With signed attributes, does their messageDigest equal the digest of `content`
    /// (RFC 5652 §5.4)? `None` without signed attributes: the signature covers the content.
    /// `head`: as in [`check_integrity`].
    pub fn digest_matches(
        &self,
        content: &[&[u8]],
        head: Option<&openssl::sha::Sha256>,
    ) -> Result<Option<bool>, String> {
        let Some(attrs) = self.signer_info.signed_attrs.as_ref() else {
            return Ok(None);
        };
        let message_digest = attrs
            .iter()
            .find(|a| a.oid == ID_MESSAGE_DIGEST)
            .and_then(|a| a.values.get(0))
            .and_then(|v| v.decode_as::<OctetString>().ok())
            .ok_or("no messageDigest attribute")?;
        let algorithm = self.digest_algorithm()?;
        let digest = match (head, content.split_first()) {
            (Some(head), Some((_, rest))) if algorithm.oid == algorithms::SHA256 => {
                let mut hasher = head.clone();
                for window in rest
                    .iter()
                    .flat_map(|part| crate::pdf::pages::windows(part))
                {
                    hasher.update(window);
                }
                hasher.finish().to_vec()
            }
            _ => algorithm.hash(content)?,
        };
        Ok(Some(message_digest.as_bytes() == digest))
    }

    /// Does the signature value verify with the signer's key? It is over the DER of the
    /// signed attributes as a SET OF, or over `content` itself when there are none
    /// (RFC 5652 §5.4).
    pub fn signature_verifies(&self, content: &[&[u8]]) -> Result<algorithms::Checked, String> {
        let cert = self
            .signer
            .as_ref()
            .ok_or("the signer's certificate is not in the signature")?;
        let key = cert.x509().public_key().map_err(|e| e.to_string())?;
        let signed_attrs = self
            .signer_info
            .signed_attrs
            .as_ref()
            .map(Encode::to_der)
            .transpose()
            .map_err(|e| e.to_string())?;
        let message = match &signed_attrs {
            Some(der) => &[&der[..]][..],
            None => content,
        };
        algorithms::verify(
            &key,
            &self.signer_info.signature_algorithm,
            self.digest_algorithm()?,
            message,
            self.signer_info.signature.as_bytes(),
        )
    }

    /// The DER of the signature timestamp token, if the signer has one.
    pub fn timestamp_token(&self) -> Option<Vec<u8>> {
        self.signer_info
            .unsigned_attrs
            .as_ref()?
            .iter()
            .find(|a| a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)?
            .values
            .get(0)?
            .to_der()
            .ok()
    }

    pub fn has_signing_certificate_v2(&self) -> bool {
        self.signer_info.signed_attrs.as_ref().is_some_and(|attrs| {
            attrs
                .iter()
                .any(|a| a.oid == const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2)
        })
    }
}

/// Checks a PDF signature's CMS against the signed byte ranges `ranges`, filling in the
/// digest and signature checks; returns the digests the signature relies on.
///
/// What the signer signed depends on the SubFilter (ISO 32000-1 §12.8.3.3.1): the byte
/// ranges themselves for the detached ones, which must then carry no content of their own;
/// for adbe.pkcs7.sha1, the SHA-1 digest of the byte ranges as encapsulated content. That
/// content is then checked as RFC 5652 §5.4 says: through the messageDigest attribute and a
/// signature over the signed attributes, or by the signature alone when there are none.
///
/// `head`, when given, is SHA-256's state after `ranges[0]`: a SHA-256 digest of the ranges
/// then reads only the rest.
pub fn check_integrity(
    cms: &Cms,
    sub_filter: Option<&str>,
    ranges: &[&[u8]],
    head: Option<&openssl::sha::Sha256>,
    checks: &mut Checks,
) -> Result<Vec<&'static Digest>, (SubIndication, String)> {
    use SubIndication::*;
    let format = |e: String| (FormatFailure, e);
    let mut digests = vec![cms.digest_algorithm().map_err(format)?];
    let encapsulated = cms.encapsulated_content().map_err(format)?;
    let (content, head): (Vec<&[u8]>, _) = match (sub_filter, &encapsulated) {
        (Some("adbe.pkcs7.sha1"), Some(econtent)) => {
            let sha1 = Digest::by_oid(&algorithms::SHA1).map_err(format)?;
            if sha1.hash(ranges).map_err(format)? != *econtent {
                checks.digest = Some(false);
                return Err((
                    HashFailure,
                    "the document bytes do not match the signed SHA-1 digest".into(),
                ));
            }
            digests.push(sha1);
            (vec![econtent], None)
        }
        (Some("adbe.pkcs7.sha1"), None) => {
            return Err(format(
                "adbe.pkcs7.sha1 without the digest of the byte ranges as its content".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(format(
                "a detached signature that also encapsulates content: what was signed is not the document".into(),
            ))
        }
        (_, None) => (ranges.to_vec(), head),
    };
    let digest_ok = cms.digest_matches(&content, head).map_err(format)?;
    if digest_ok == Some(false) {
        checks.digest = Some(false);
        return Err((
            HashFailure,
            "the document bytes do not match the signed digest".into(),
        ));
    }
    let checked = cms
        .signature_verifies(&content)
        .map_err(|e| (SigCryptoFailure, e))?;
    // Without signed attributes the digest is checked inside the signature itself.
    checks.digest = Some(digest_ok.unwrap_or(checked.valid));
    checks.signature = Some(checked.valid);
    if !checked.valid {
        return Err((
            SigCryptoFailure,
            "the signature does not match the signer's public key".into(),
        ));
    }
    digests.push(checked.hash);
    Ok(digests)
}

/// A verified timestamp: its time and the authority's certificate, for chain building.
pub struct Timestamp {
    pub time: chrono::DateTime<chrono::Utc>,
    pub tsa: Certificate,
    pub certificates: Vec<Certificate>,
    /// The revocation data the token carries.
    pub revocation: Carried,
    /// The digests it relies on: the imprint's, the token signer's and its signature's.
    pub digests: [&'static Digest; 3],
}

/// Checks an RFC 3161 token: a CMS over TSTInfo whose message imprint is the digest of the
/// concatenated `message` parts with the imprint's own hash algorithm (RFC 3161 §2.4.2).
pub fn check_timestamp(token: &[u8], message: &[&[u8]]) -> Result<Timestamp, String> {
    let cms = parse(token)?;
    if cms.signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("the token does not hold a TSTInfo".into());
    }
    let tst_info = cms.encapsulated_content()?.ok_or("token without TSTInfo")?;
    let (imprint, time) = read_tst_info(&tst_info).map_err(|e| format!("TSTInfo: {e}"))?;
    let algorithm = Digest::from_identifier(&imprint.hash_algorithm)?;
    if imprint.hashed_message.as_bytes() != algorithm.hash(message)? {
        return Err("the timestamp is over other data".into());
    }
    let checked = cms.signature_verifies(&[&tst_info])?;
    if cms.digest_matches(&[&tst_info], None)? != Some(true) || !checked.valid {
        return Err("the timestamp token's signature does not verify".into());
    }
    let tsa = cms
        .signer
        .clone()
        .ok_or("the TSA certificate is not in the token")?;
    Ok(Timestamp {
        time,
        tsa,
        digests: [algorithm, cms.digest_algorithm()?, checked.hash],
        certificates: cms.certificates,
        revocation: cms.revocation,
    })
}

/// The message imprint and genTime of a TSTInfo (RFC 3161 §2.4.2). Read by hand because
/// x509-tsp takes genTime as a DER GeneralizedTime, which has no fractional seconds, while
/// RFC 3161 allows them and many TSAs (pyHanko's among them) send them.
fn read_tst_info(der: &[u8]) -> Result<(MessageImprint, chrono::DateTime<chrono::Utc>), String> {
    let (imprint, gen_time) = der::SliceReader::new(der)
        .and_then(|mut reader| {
            reader.sequence(|fields| {
                let _version = u8::decode(fields)?;
                let _policy = ObjectIdentifier::decode(fields)?;
                let imprint = MessageImprint::decode(fields)?;
                let _serial = Int::decode(fields)?;
                let gen_time = Any::decode(fields)?;
                // accuracy, ordering, nonce, tsa and extensions say nothing we check.
                fields.read_slice(fields.remaining_len())?;
                Ok((imprint, gen_time))
            })
        })
        .map_err(|e| e.to_string())?;
    if gen_time.tag() != Tag::GeneralizedTime {
        return Err("genTime is not a GeneralizedTime".into());
    }
    let text = std::str::from_utf8(gen_time.value()).map_err(|e| e.to_string())?;
    let time = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S%.fZ")
        .map_err(|e| format!("genTime {text:?}: {e}"))?;
    Ok((imprint, time.and_utc()))
}

fn text(attr: &x509_parser::x509::AttributeTypeAndValue<'_>) -> Option<String> {
    attr.as_str().ok().map(str::to_owned)
}

/// Subject, UIDs, issuer, validity and key usage, for people to read.
pub fn describe(cert: &Certificate) -> Option<CertificateInfo> {
    let parsed = cert.parsed()?;
    let subject = parsed.subject();
    let key_usage = parsed
        .key_usage()
        .ok()
        .flatten()
        .map(|ku| {
            let ku = ku.value;
            [
                (ku.digital_signature(), "digitalSignature"),
                (ku.non_repudiation(), "nonRepudiation"),
                (ku.key_encipherment(), "keyEncipherment"),
                (ku.key_cert_sign(), "keyCertSign"),
                (ku.crl_sign(), "cRLSign"),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name.to_owned())
            .collect()
        })
        .unwrap_or_default();
    let info = CertificateInfo {
        subject: subject.to_string(),
        common_name: subject.iter_common_name().next().and_then(text),
        organization: subject.iter_organization().next().and_then(text),
        uids: subject
            .iter_by_oid(&x509_parser::oid_registry::OID_USERID)
            .filter_map(text)
            .collect(),
        issuer: parsed.issuer().to_string(),
        serial: parsed.raw_serial_as_string(),
        not_before: parsed.validity().not_before.to_string(),
        not_after: parsed.validity().not_after.to_string(),
        key_usage,
    };
    Some(info)
}

#[cfg(test)]
mod tests {
    use der::asn1::GeneralizedTime;
    use spki::AlgorithmIdentifierOwned;

    use super::*;

    /// A TSTInfo with `gen_time` as genTime (tag and text), and a nonce after it.
    fn tst_info(tag: Tag, gen_time: &str) -> Vec<u8> {
        let imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: algorithms::SHA512,
                parameters: None,
            },
            hashed_message: OctetString::new([7u8; 64]).unwrap(),
        };
        let fields = vec![
            Any::encode_from(&1u8).unwrap(),
            Any::encode_from(&ObjectIdentifier::new_unwrap("1.2.3.4")).unwrap(),
            Any::encode_from(&imprint).unwrap(),
            Any::encode_from(&Int::new(&[0x05]).unwrap()).unwrap(),
            Any::new(tag, gen_time.as_bytes()).unwrap(),
            Any::encode_from(&Int::new(&[0x2a]).unwrap()).unwrap(),
        ];
        fields.to_der().unwrap()
    }

    /// RFC 3161 §2.4.2 allows fractional seconds in genTime, which DER GeneralizedTime lacks.
    #[test]
    fn tst_info_gen_time_with_and_without_fraction() {
        let (imprint, time) =
            read_tst_info(&tst_info(Tag::GeneralizedTime, "20261130051523.123456Z")).unwrap();
        assert_eq!(imprint.hash_algorithm.oid, algorithms::SHA512);
        assert_eq!(time.to_rfc3339(), "2026-11-30T05:15:23.123456+00:00");
        let (_, time) = read_tst_info(&tst_info(Tag::GeneralizedTime, "20261130051523Z")).unwrap();
        assert_eq!(time.to_rfc3339(), "2026-11-30T05:15:23+00:00");
        // x509-tsp's reading refuses the fraction: the reason for reading by hand.
        assert!(GeneralizedTime::from_der(
            &Any::new(Tag::GeneralizedTime, b"20261130051523.5Z".as_slice())
                .unwrap()
                .to_der()
                .unwrap()
        )
        .is_err());
        for (tag, text) in [
            (Tag::UtcTime, "261130051523Z"),
            (Tag::GeneralizedTime, "202611300515Z"),
            (Tag::GeneralizedTime, "20261130051523+0700"),
        ] {
            assert!(read_tst_info(&tst_info(tag, text)).is_err(), "{text}");
        }
    }
}
