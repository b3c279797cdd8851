//! Revocation data a CMS signature carries itself, read besides the document's DSS: the
//! SignedData `crls` field (RFC 5652 §10.2.1: CRLs, and OCSP answers as id-ri-ocsp-response,
//! RFC 5940) and Adobe's signed attribute adbe-revocationInfoArchival (ISO 32000-1
//! §12.8.3.3.2), which Acrobat and many CAs' signing tools write instead of a DSS.

use ::cms::content_info::CmsVersion;
use ::cms::signed_data::{
    CertificateSet, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignedData, SignerInfo,
    SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode, Sequence, Tag, TagNumber, Tagged};
use openssl::x509::X509Crl;

/// id-ri-ocsp-response (RFC 5940 §4.1): an OCSPResponse as an OtherRevocationInfoFormat.
const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");
/// adbe-revocationInfoArchival (ISO 32000-1 §12.8.3.3.2).
const ADBE_REVOCATION_INFO_ARCHIVAL: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// CRLs and DER OCSPResponses found in a CMS signature; like the DSS's, each is checked
/// against the issuer's key when used.
#[derive(Default)]
pub struct Carried {
    pub crls: Vec<X509Crl>,
    pub ocsps: Vec<Vec<u8>>,
}

impl Carried {
    fn add_crl(&mut self, crl: &Any) {
        if let Some(crl) = crl.to_der().ok().and_then(|d| X509Crl::from_der(&d).ok()) {
            self.crls.push(crl);
        }
    }

    fn add_ocsp(&mut self, answer: &Any) {
        if let Ok(der) = answer.to_der() {
            self.ocsps.push(der);
        }
    }
}

/// SignedData (RFC 5652 §5.1) with its `crls` kept as raw choices: cms 0.2 reads an
/// OtherRevocationInfoFormat with an AlgorithmIdentifier where RFC 5652 has an OBJECT
/// IDENTIFIER, and so refuses every SignedData carrying an OCSP answer.
#[derive(Sequence)]
pub(super) struct RawSignedData {
    version: CmsVersion,
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<CertificateSet>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<SetOfVec<Any>>,
    signer_infos: SignerInfos,
}

impl RawSignedData {
    /// The SignedData without its revocation choices, and those choices.
    pub(super) fn split(self) -> (SignedData, Vec<Any>) {
        let choices = self.crls.map(SetOfVec::into_vec).unwrap_or_default();
        let signed_data = SignedData {
            version: self.version,
            digest_algorithms: self.digest_algorithms,
            encap_content_info: self.encap_content_info,
            certificates: self.certificates,
            crls: None,
            signer_infos: self.signer_infos,
        };
        (signed_data, choices)
    }
}

/// RevocationInfoArchival (ISO 32000-1 §12.8.3.3.2); `otherRevInfo` has no registered type.
#[derive(Sequence)]
struct RevocationInfoArchival {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl: Option<Vec<Any>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    ocsp: Option<Vec<Any>>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    other: Option<Vec<Any>>,
}

/// What `choices` (SignedData `crls`) and the signer's signed attributes hold. Entries of
/// other kinds, or that do not parse, are left out: they prove nothing.
pub(super) fn read(choices: &[Any], signer_info: &SignerInfo) -> Carried {
    let mut carried = Carried::default();
    let other = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N1,
    };
    for choice in choices {
        if choice.tag() == Tag::Sequence {
            carried.add_crl(choice);
        } else if choice.tag() == other {
            // An OtherRevocationInfoFormat, its SEQUENCE tag replaced by [1].
            let format = der::SliceReader::new(choice.value()).and_then(|mut fields| {
                Ok((
                    ObjectIdentifier::decode(&mut fields)?,
                    Any::decode(&mut fields)?,
                ))
            });
            match format {
                Ok((oid, answer)) if oid == ID_RI_OCSP_RESPONSE => carried.add_ocsp(&answer),
                _ => {}
            }
        }
    }
    let archived = signer_info
        .signed_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .filter(|attr| attr.oid == ADBE_REVOCATION_INFO_ARCHIVAL)
        .flat_map(|attr| attr.values.iter())
        .filter_map(|value| value.decode_as::<RevocationInfoArchival>().ok());
    for archival in archived {
        archival
            .crl
            .iter()
            .flatten()
            .for_each(|c| carried.add_crl(c));
        archival
            .ocsp
            .iter()
            .flatten()
            .for_each(|o| carried.add_ocsp(o));
    }
    carried
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cms::{self as signing, Content, SigningKey};
    use crate::pki::dev::{self, KeyAlgorithm, Profile, SubjectSpec};
    use crate::pki::{ocsp, Certificate};
    use ::cms::content_info::ContentInfo;
    use chrono::{Duration, Utc};
    use const_oid::db::rfc5911::ID_SIGNED_DATA;

    /// A SignedData whose `crls` hold a CRL and an OCSP answer, as CAdES signers write them
    /// (ETSI EN 319 122-1): no tool at hand puts one in a PDF, so it is assembled here from
    /// a real signature, list and answer.
    #[test]
    fn crls_and_ocsp_answers_in_signed_data_are_read() {
        let now = Utc::now();
        let ca = dev::new_root("carried test CA", KeyAlgorithm::EcdsaP256).unwrap();
        let issue = |cn, profile| {
            let subject = SubjectSpec {
                common_name: cn,
                ..Default::default()
            };
            let alg = KeyAlgorithm::EcdsaP256;
            let (from, until) = (now - Duration::hours(1), now + Duration::days(30));
            dev::issue(&ca, &subject, profile, alg, from, until).unwrap()
        };
        let signer = issue("signer", Profile::Signer);
        let ca_cert = Certificate::from_x509(ca.cert.clone()).unwrap();
        let responder = ocsp::Responder {
            ca: ca_cert.clone(),
            signer: issue("responder", Profile::OcspSigning),
        };
        let crl = dev::build_crl(&ca, &[], now, now + Duration::days(7)).unwrap();
        let signer_cert = Certificate::from_x509(signer.cert.clone()).unwrap();
        let query = ocsp::query(&signer_cert, &ca_cert).unwrap();
        let list = X509Crl::from_der(&crl).unwrap();
        let answer = ocsp::respond(&query.der, &[responder], &[list], now).unwrap();

        let key = SigningKey {
            key: Box::new(signer.key.clone()),
            certificate: signer_cert,
            chain: Vec::new(),
        };
        let signed = signing::sign(Content::Detached { digest: &[7; 32] }, &key).unwrap();
        let mut other = ID_RI_OCSP_RESPONSE.to_der().unwrap();
        other.extend_from_slice(&answer);
        let other_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N1,
        };
        let choices = vec![
            Any::from_der(&crl).unwrap(),
            Any::new(other_tag, other).unwrap(),
        ];
        let raw = RawSignedData {
            version: signed.version,
            digest_algorithms: signed.digest_algorithms,
            encap_content_info: signed.encap_content_info,
            certificates: signed.certificates,
            crls: Some(SetOfVec::try_from(choices).unwrap()),
            signer_infos: signed.signer_infos,
        };
        let der = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&raw).unwrap(),
        }
        .to_der()
        .unwrap();

        let parsed = super::super::cms::parse(&der).unwrap();
        assert_eq!(parsed.revocation.crls.len(), 1);
        assert_eq!(parsed.revocation.crls[0].to_der().unwrap(), crl);
        assert_eq!(parsed.revocation.ocsps, vec![answer]);
        assert!(parsed.signer.is_some());
        // What the cms crate alone makes of it.
        let info = ContentInfo::from_der(&der).unwrap();
        assert!(info.content.decode_as::<SignedData>().is_err());
    }
}
