//! RFC 3161 time-stamping: the client that PAdES B-T uses, and the small authority kyso serves
//! itself (`POST /tsa`) so that B-T works with no outside service.

use std::time::SystemTime;

use ::cms::content_info::ContentInfo;
use ::cms::signed_data::SignedData;
use cmpv2::status::{PkiFailureInfoValues, PkiStatus, PkiStatusInfo};
use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifier;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use crate::error::{Error, Result};
use crate::pki::algorithms::SHA256;
use crate::pki::cms::{self, Content, SigningKey, ID_CT_TST_INFO};
use crate::pki::fetch::{Fetch, Kind};

pub const CONTENT_TYPE_QUERY: &str = "application/timestamp-query";
pub const CONTENT_TYPE_REPLY: &str = "application/timestamp-reply";
/// Policy of kyso's own TSA, under IANA's enterprise number reserved for documentation
/// (RFC 5612): this TSA serves one installation, not the public.
pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// Anything that can time-stamp a message (the signature value, for PAdES B-T).
pub trait Timestamper: Send + Sync {
    /// Returns a DER TimeStampToken (a CMS ContentInfo) over SHA-256 of `message`.
    fn timestamp(&self, message: &[u8]) -> Result<Vec<u8>>;
}

fn der_err(e: der::Error) -> Error {
    Error::Timestamp(format!("DER: {e}"))
}

fn sha256_imprint(message: &[u8]) -> Result<MessageImprint> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier {
            oid: SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(cms::sha256(message)?).map_err(der_err)?,
    })
}

fn random_int() -> Result<Int> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).map_err(Error::internal)?;
    // Positive, and a non-zero first byte: DER forbids a leading zero byte before one < 0x80.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Int::new(&bytes).map_err(der_err)
}

/// An RFC 3161 client over a fetch transport (HTTP(S) in the service).
pub struct HttpTimestamper {
    pub url: String,
    pub fetch: std::sync::Arc<dyn Fetch>,
}

impl Timestamper for HttpTimestamper {
    fn timestamp(&self, message: &[u8]) -> Result<Vec<u8>> {
        let query = request(message)?;
        let (imprint, nonce) = (query.message_imprint.clone(), query.nonce.clone());
        let query = query.to_der().map_err(der_err)?;
        let body = self
            .fetch
            .post(Kind::Tsa, &self.url, CONTENT_TYPE_QUERY, &query)
            .map_err(|e| Error::Timestamp(e.to_string()))?;
        token_from_response(&body, &imprint, nonce.as_ref())
    }
}

/// A request for a token over SHA-256 of `message`, with a fresh nonce.
fn request(message: &[u8]) -> Result<TimeStampReq> {
    Ok(TimeStampReq {
        version: TspVersion::V1,
        message_imprint: sha256_imprint(message)?,
        req_policy: None,
        nonce: Some(random_int()?),
        cert_req: true,
        extensions: None,
    })
}

/// Checks a TimeStampResp against what we asked for and returns its token.
fn token_from_response(
    body: &[u8],
    imprint: &MessageImprint,
    nonce: Option<&Int>,
) -> Result<Vec<u8>> {
    let response = TimeStampResp::from_der(body).map_err(der_err)?;
    if !matches!(
        response.status.status,
        PkiStatus::Accepted | PkiStatus::GrantedWithMods
    ) {
        return Err(Error::Timestamp(format!(
            "request refused: {:?}",
            response.status.status
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| Error::Timestamp("granted without a token".into()))?;
    let info = tst_info(&token)?;
    if &info.message_imprint != imprint || info.nonce.as_ref() != nonce {
        return Err(Error::Timestamp(
            "the token does not answer our request".into(),
        ));
    }
    token.to_der().map_err(der_err)
}

/// The TSTInfo inside a token (a SignedData with encapsulated id-ct-TSTInfo).
pub fn tst_info(token: &ContentInfo) -> Result<TstInfo> {
    let signed_data: SignedData = token.content.decode_as().map_err(der_err)?;
    let econtent = signed_data
        .encap_content_info
        .econtent
        .ok_or_else(|| Error::Timestamp("token without TSTInfo".into()))?;
    let octets: OctetString = econtent.decode_as().map_err(der_err)?;
    TstInfo::from_der(octets.as_bytes()).map_err(der_err)
}

/// A time-stamping authority answering RFC 3161 requests with its own key.
pub struct TimestampAuthority {
    key: SigningKey,
}

impl TimestampAuthority {
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    /// Answers a DER TimeStampReq with a DER TimeStampResp; a request we cannot parse or
    /// serve gets a rejection status, as RFC 3161 §2.4.2 asks, not a transport error.
    pub fn respond(&self, request: &[u8]) -> Result<Vec<u8>> {
        let status = |status, fail_info| PkiStatusInfo {
            status,
            status_string: None,
            fail_info,
        };
        let response = match TimeStampReq::from_der(request) {
            Ok(req) if req.message_imprint.hash_algorithm.oid != SHA256 => TimeStampResp {
                status: status(
                    PkiStatus::Rejection,
                    Some(PkiFailureInfoValues::BadAlg.into()),
                ),
                time_stamp_token: None,
            },
            Ok(req) => TimeStampResp {
                status: status(PkiStatus::Accepted, None),
                time_stamp_token: Some(self.token(&req)?),
            },
            Err(_) => TimeStampResp {
                status: status(
                    PkiStatus::Rejection,
                    Some(PkiFailureInfoValues::BadDataFormat.into()),
                ),
                time_stamp_token: None,
            },
        };
        response.to_der().map_err(der_err)
    }

    fn token(&self, req: &TimeStampReq) -> Result<ContentInfo> {
        let info = TstInfo {
            version: TspVersion::V1,
            policy: req.req_policy.unwrap_or(POLICY),
            message_imprint: req.message_imprint.clone(),
            serial_number: random_int()?,
            gen_time: GeneralizedTime::from_system_time(SystemTime::now()).map_err(der_err)?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let info_der = info.to_der().map_err(der_err)?;
        let signed = cms::sign(
            Content::Encapsulated {
                content_type: ID_CT_TST_INFO,
                der: &info_der,
            },
            &self.key,
        )?;
        let der = cms::to_der(&signed)?;
        ContentInfo::from_der(&der).map_err(der_err)
    }
}

/// In process, without HTTP: B-T for `kyso sign` and for instances with no `tsa.url`.
impl Timestamper for TimestampAuthority {
    fn timestamp(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.token(&request(message)?)?.to_der().map_err(der_err)
    }
}
