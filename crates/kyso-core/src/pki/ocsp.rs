//! OCSP (RFC 6960): the request kyso sends and the checks of an answer, and the responder
//! kyso serves for its own dev CAs (`POST /ocsp`).
//!
//! openssl checks an answer's signature and its signer's authority (the issuer, or a
//! responder the issuer certified for OCSPSigning: `OCSP_basic_verify`). The openssl crate
//! cannot build a request with a nonce, read a request, build a BasicOCSPResponse nor read
//! an answer's times, so those go through x509-ocsp (RustCrypto, on the same der/x509-cert
//! as the rest of kyso).

use chrono::{DateTime, Utc};
use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256};
use const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::asn1::{GeneralizedTime, Null, OctetString};
use der::{Decode, Encode};
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspFlag, OcspResponse as SslResponse, OcspResponseStatus as SslStatus};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{CrlStatus, X509Crl, X509Ref};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, Request,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, TbsRequest, Version,
};

use crate::error::{Error, Result};
use crate::pki;
use crate::pki::dev::{self, Issued};
use crate::pki::revocation::Statement;

pub const CONTENT_TYPE_REQUEST: &str = "application/ocsp-request";
pub const CONTENT_TYPE_RESPONSE: &str = "application/ocsp-response";

fn der_err(e: der::Error) -> Error {
    Error::Revocation(format!("OCSP: {e}"))
}

/// The CertId naming `cert` of `issuer` under `hash` (SHA-1 as RFC 5019 asks of clients,
/// or SHA-256).
fn cert_id(
    cert: &pki::Certificate,
    issuer: &pki::Certificate,
    hash: &AlgorithmIdentifierOwned,
) -> Result<CertId> {
    let digest = match hash.oid {
        ID_SHA_1 => MessageDigest::sha1(),
        ID_SHA_256 => MessageDigest::sha256(),
        other => return Err(Error::Revocation(format!("OCSP hash {other} unsupported"))),
    };
    let (cert, issuer) = (cert.structure()?, issuer.structure()?);
    let digest_of = |bytes: &[u8]| -> Result<OctetString> {
        let d = openssl::hash::hash(digest, bytes).map_err(Error::internal)?;
        OctetString::new(d.to_vec()).map_err(der_err)
    };
    let key = &issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key;
    Ok(CertId {
        hash_algorithm: hash.clone(),
        issuer_name_hash: digest_of(&issuer.tbs_certificate.subject.to_der().map_err(der_err)?)?,
        issuer_key_hash: digest_of(key.raw_bytes())?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

fn sha1() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA_1,
        parameters: Some(der::Any::from(Null)),
    }
}

fn nonce_extension(nonce: &[u8]) -> Result<Extension> {
    let value = OctetString::new(nonce).map_err(der_err)?;
    Ok(Extension {
        extn_id: ID_PKIX_OCSP_NONCE,
        critical: false,
        extn_value: OctetString::new(value.to_der().map_err(der_err)?).map_err(der_err)?,
    })
}

/// A request for the status of `cert`, with a fresh nonce the answer must echo.
pub struct Query {
    pub der: Vec<u8>,
    pub nonce: Vec<u8>,
}

pub fn query(cert: &pki::Certificate, issuer: &pki::Certificate) -> Result<Query> {
    let mut nonce = vec![0u8; 16];
    openssl::rand::rand_bytes(&mut nonce).map_err(Error::internal)?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id(cert, issuer, &sha1())?,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![nonce_extension(&nonce)?]),
        },
        optional_signature: None,
    };
    Ok(Query {
        der: request.to_der().map_err(der_err)?,
        nonce,
    })
}

fn to_utc(time: &OcspGeneralizedTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(i64::try_from(time.0.to_unix_duration().as_secs()).ok()?, 0)
}

fn basic(response: &[u8]) -> Result<BasicOcspResponse> {
    let response = OcspResponse::from_der(response).map_err(der_err)?;
    let bytes = response
        .response_bytes
        .ok_or_else(|| Error::Revocation(format!("OCSP: {:?}", response.response_status)))?;
    BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(der_err)
}

/// What an OCSP answer says of `cert`, once its signature checks: by `issuer`, or by a
/// responder `issuer` certified for OCSPSigning, valid when the answer was produced. With
/// `nonce`, an answer echoing another nonce is refused (one with none may be a pre-produced
/// answer, RFC 5019, and is judged by its times).
pub fn check(
    response: &[u8],
    cert: &pki::Certificate,
    issuer: &pki::Certificate,
    nonce: Option<&[u8]>,
) -> Result<Statement> {
    let parsed = basic(response)?;
    let produced = to_utc(&parsed.tbs_response_data.produced_at)
        .ok_or_else(|| Error::Revocation("OCSP: producedAt out of range".into()))?;
    verify_signer(response, issuer.x509(), produced)?;
    if let (Some(asked), Some(echoed)) = (nonce, parsed.nonce()) {
        if echoed.0.as_bytes() != asked {
            return Err(Error::Revocation(
                "OCSP: the answer echoes another nonce".into(),
            ));
        }
    }
    for single in &parsed.tbs_response_data.responses {
        if cert_id(cert, issuer, &single.cert_id.hash_algorithm)
            .ok()
            .as_ref()
            != Some(&single.cert_id)
        {
            continue;
        }
        let revoked = match &single.cert_status {
            CertStatus::Good(_) => None,
            CertStatus::Revoked(info) => {
                Some(to_utc(&info.revocation_time).ok_or_else(|| {
                    Error::Revocation("OCSP: revocation time out of range".into())
                })?)
            }
            CertStatus::Unknown(_) => {
                return Err(Error::Revocation(
                    "OCSP: the responder does not know the certificate".into(),
                ))
            }
        };
        return Ok(Statement {
            this_update: to_utc(&single.this_update),
            next_update: single.next_update.as_ref().and_then(to_utc),
            revoked,
        });
    }
    Err(Error::Revocation(
        "OCSP: the answer does not name the certificate".into(),
    ))
}

/// `OCSP_basic_verify` with `issuer` as the only anchor, at the time the answer was produced
/// (an embedded answer outlives its responder's certificate).
fn verify_signer(response: &[u8], issuer: &X509Ref, at: DateTime<Utc>) -> Result<()> {
    let ssl = |e: openssl::error::ErrorStack| Error::Revocation(format!("OCSP: {e}"));
    let response = SslResponse::from_der(response).map_err(ssl)?;
    if response.status() != SslStatus::SUCCESSFUL {
        return Err(Error::Revocation("OCSP: not a successful answer".into()));
    }
    let basic = response.basic().map_err(ssl)?;
    let mut store = X509StoreBuilder::new().map_err(ssl)?;
    store.add_cert(issuer.to_owned()).map_err(ssl)?;
    let mut param = X509VerifyParam::new().map_err(ssl)?;
    param.set_time(at.timestamp());
    param
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(ssl)?;
    store.set_param(&param).map_err(ssl)?;
    let mut certs = Stack::new().map_err(ssl)?;
    certs.push(issuer.to_owned()).map_err(ssl)?;
    basic
        .verify(&certs, &store.build(), OcspFlag::empty())
        .map_err(|e| Error::Revocation(format!("OCSP: the answer's signature does not check: {e}")))
}

/// A CA kyso answers for, and the delegated responder that signs the answers.
pub struct Responder {
    pub ca: pki::Certificate,
    pub signer: Issued,
}

/// How long an answer of kyso's responder speaks for.
const VALIDITY: chrono::Duration = chrono::Duration::hours(24);

fn time(t: DateTime<Utc>) -> Result<OcspGeneralizedTime> {
    let secs = u64::try_from(t.timestamp()).map_err(Error::internal)?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(der_err)
}

/// Answers a DER OCSPRequest from the lists in `crls` (kyso's revocation data) for the
/// certificates of `responders`' CAs: `malformedRequest` for what is not a request,
/// `unauthorized` for a CA kyso does not answer for (RFC 6960 §2.3), else a signed answer
/// echoing the request's nonce.
pub fn respond(
    request: &[u8],
    responders: &[Responder],
    crls: &[X509Crl],
    now: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let Ok(request) = OcspRequest::from_der(request) else {
        return OcspResponse::malformed_request().to_der().map_err(der_err);
    };
    let requests = &request.tbs_request.request_list;
    let ours = |id: &CertId| {
        responders.iter().find(|r| {
            cert_id(&r.ca, &r.ca, &id.hash_algorithm).is_ok_and(|own| {
                own.issuer_name_hash == id.issuer_name_hash
                    && own.issuer_key_hash == id.issuer_key_hash
            })
        })
    };
    let Some(responder) = requests.first().and_then(|r| ours(&r.req_cert)) else {
        return OcspResponse::unauthorized().to_der().map_err(der_err);
    };
    let responses = requests
        .iter()
        .map(|r| {
            let status = match ours(&r.req_cert) {
                Some(same) if std::ptr::eq(same, responder) => {
                    status(&responder.ca, &r.req_cert, crls)?
                }
                _ => CertStatus::unknown(),
            };
            Ok(SingleResponse {
                cert_id: r.req_cert.clone(),
                cert_status: status,
                this_update: time(now)?,
                next_update: Some(time(now + VALIDITY)?),
                single_extensions: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // The dev CA hands out OpenSSL certificates (`Issued`): its one conversion.
    let signer = pki::Certificate::from_x509(responder.signer.cert.clone())?
        .structure()?
        .clone();
    let key_hash = openssl::hash::hash(
        MessageDigest::sha1(),
        signer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
    .map_err(Error::internal)?;
    let nonce = request.nonce();
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(OctetString::new(key_hash.to_vec()).map_err(der_err)?),
        produced_at: time(now)?,
        responses,
        response_extensions: nonce
            .map(|n| nonce_extension(n.0.as_bytes()).map(|e| vec![e]))
            .transpose()?,
    };
    let basic = BasicOcspResponse {
        signature: dev::sign_sha256(&responder.signer.key, &data.to_der().map_err(der_err)?)?,
        signature_algorithm: dev::signature_algorithm(&responder.signer.key)?,
        tbs_response_data: data,
        certs: Some(vec![signer]),
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .map_err(der_err)
}

/// The status of the serial `id` names, from the newest list `ca` signed; unknown without one.
fn status(ca: &pki::Certificate, id: &CertId, crls: &[X509Crl]) -> Result<CertStatus> {
    let key = ca.x509().public_key().map_err(Error::internal)?;
    let newest = crls
        .iter()
        .filter(|crl| crl.verify(&key).unwrap_or(false))
        .max_by_key(|crl| crate::pki::revocation::to_utc(crl.last_update()));
    let Some(crl) = newest else {
        return Ok(CertStatus::unknown());
    };
    let serial = openssl::bn::BigNum::from_slice(id.serial_number.as_bytes())
        .and_then(|bn| bn.to_asn1_integer())
        .map_err(Error::internal)?;
    Ok(match crl.get_by_serial(&serial) {
        CrlStatus::Revoked(entry) => {
            let at = crate::pki::revocation::to_utc(entry.revocation_date())
                .ok_or_else(|| Error::internal("revocation date out of range"))?;
            CertStatus::revoked(RevokedInfo {
                revocation_time: time(at)?,
                revocation_reason: None,
            })
        }
        _ => CertStatus::good(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::dev::{KeyAlgorithm, Profile, SubjectSpec};
    use chrono::Duration;

    fn issue(issuer: &Issued, name: &str, profile: Profile) -> Issued {
        let now = Utc::now();
        let subject = SubjectSpec {
            common_name: name,
            ..Default::default()
        };
        dev::issue(
            issuer,
            &subject,
            profile,
            KeyAlgorithm::EcdsaP256,
            now - Duration::hours(1),
            now + Duration::days(30),
        )
        .unwrap()
    }

    #[test]
    fn answers_check_against_the_issuer_and_the_nonce() {
        let ca = dev::new_root("ocsp test CA", KeyAlgorithm::EcdsaP256).unwrap();
        let responder = issue(&ca, "responder", Profile::OcspSigning);
        let (good, revoked) = (
            issue(&ca, "good", Profile::Signer),
            issue(&ca, "revoked", Profile::Signer),
        );
        let now = Utc::now();
        let crl = X509Crl::from_der(
            &dev::build_crl(&ca, &[(&revoked.cert, now)], now, now + Duration::days(1)).unwrap(),
        )
        .unwrap();
        let cert = |issued: &Issued| pki::Certificate::from_x509(issued.cert.clone()).unwrap();
        let (ca_cert, good_cert, revoked_cert) = (cert(&ca), cert(&good), cert(&revoked));
        let responders = [Responder {
            ca: ca_cert.clone(),
            signer: responder.clone(),
        }];
        let ask = |cert: &pki::Certificate| {
            let query = query(cert, &ca_cert).unwrap();
            let answer = respond(&query.der, &responders, std::slice::from_ref(&crl), now);
            (query.nonce, answer.unwrap())
        };

        let (nonce, answer) = ask(&good_cert);
        let statement = check(&answer, &good_cert, &ca_cert, Some(&nonce)).unwrap();
        assert_eq!(statement.revoked, None);
        assert!(statement.next_update > statement.this_update);
        // Another nonce, another certificate, another issuer: refused.
        assert!(check(&answer, &good_cert, &ca_cert, Some(b"other")).is_err());
        assert!(check(&answer, &revoked_cert, &ca_cert, None).is_err());
        let rogue = cert(&dev::new_root("rogue", KeyAlgorithm::EcdsaP256).unwrap());
        assert!(check(&answer, &good_cert, &rogue, None).is_err());

        let (nonce, answer) = ask(&revoked_cert);
        let statement = check(&answer, &revoked_cert, &ca_cert, Some(&nonce)).unwrap();
        assert_eq!(
            statement.revoked,
            DateTime::from_timestamp(now.timestamp(), 0)
        );

        // A responder the CA did not certify for OCSPSigning is not one.
        let impostor = [Responder {
            ca: ca_cert.clone(),
            signer: issue(&ca, "not a responder", Profile::Signer),
        }];
        let query = query(&good_cert, &ca_cert).unwrap();
        let answer = respond(&query.der, &impostor, &[crl], now).unwrap();
        assert!(check(&answer, &good_cert, &ca_cert, None).is_err());
    }
}
