//! One error type for the whole service. Each kind has a stable machine code that clients can
//! rely on; the HTTP status and the JSON body `{"error": {"code", "message"}}` are derived from
//! it in one place. Internal causes are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the file is not a PDF")]
    NotPdf,
    #[error("the PDF is damaged or truncated: {0}")]
    PdfMalformed(String),
    #[error("the PDF is encrypted: it needs a password to open, or kyso cannot sign it encrypted; remove the encryption first")]
    PdfEncrypted,
    #[error("the PDF is already signed: a certification statement (new page or stamp) would break its signature; certify the unsigned original")]
    PdfAlreadySigned,
    #[error("the PDF is too complex to read safely: {0}")]
    PdfTooComplex(String),
    #[error("the PDF is certified: {0}")]
    PdfCertified(String),
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("{} invalid field(s)", .0.len())]
    ValidationFailed(Vec<FieldError>),
    #[error("unsupported file type: {0}")]
    UnsupportedMedia(String),
    #[error("the scan cannot be read: {0}")]
    ScanUnreadable(String),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this API key may not do that: {0}")]
    Forbidden(String),
    #[error("unknown signer `{0}`")]
    UnknownSigner(String),
    /// `attempts_left`: how many more wrong PINs lock the key (kyso's count, known once the
    /// attempt is recorded; `None` from a key store, which does not count).
    #[error("wrong PIN for this signer's key{}", attempts_text(*.attempts_left))]
    WrongPin { attempts_left: Option<u32> },
    #[error("this signer's key is locked after repeated wrong PINs; try again after {until}")]
    KeyLocked { until: String },
    /// The token itself refuses its user PIN after too many wrong ones (CKR_PIN_LOCKED); only
    /// its security officer can unblock it.
    #[error("the signer's token has locked its PIN; its security officer must unblock it")]
    TokenPinLocked,
    #[error("the signer's certificate is not valid now: {0}")]
    CertificateNotValid(String),
    #[error("the signer's certificate is revoked")]
    CertificateRevoked,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the CSV has bad rows, nothing was imported: {0}")]
    CsvInvalid(String),
    #[error("cannot move the request from `{from}` to `{to}`; allowed: {allowed}")]
    TransitionNotAllowed {
        from: String,
        to: String,
        allowed: String,
    },
    #[error("not a certificate (PEM or DER X.509): {0}")]
    CertificateMalformed(String),
    #[error("no official matches this certificate: {0}")]
    CertificateHolderUnknown(String),
    #[error("the signer's certificate is not registered in the roll-out registry: {0}")]
    CertificateNotRegistered(String),
    #[error("not a certificate revocation list (PEM or DER): {0}")]
    CrlMalformed(String),
    #[error("the revocation list cannot be trusted: {0}")]
    CrlUntrusted(String),
    #[error("the time-stamping authority failed: {0}")]
    Timestamp(String),
    #[error("an image of {pixels} pixels exceeds the limit of {limit}")]
    ImageTooLarge { pixels: u64, limit: u64 },
    #[error("the request body did not arrive within {secs} s")]
    BodyTimeout { secs: u64 },
    #[error("too many requests of this kind at once; retry after {retry_after} s")]
    Busy { retry_after: u64 },
    #[error("rate limit reached; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("a form posted from another origin is refused")]
    CrossOrigin,
    #[error("configuration error: {0}")]
    Config(String),
    #[error("database error")]
    Database(#[from] diesel::result::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable machine-readable code of this kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotPdf => "pdf_not_pdf",
            Error::PdfMalformed(_) => "pdf_malformed",
            Error::PdfEncrypted => "pdf_encrypted",
            Error::PdfAlreadySigned => "pdf_already_signed",
            Error::PdfTooComplex(_) => "pdf_too_complex",
            Error::PdfCertified(_) => "pdf_certified",
            Error::TooLarge { .. } => "payload_too_large",
            Error::BadRequest(_) => "bad_request",
            Error::ValidationFailed(_) => "validation_failed",
            Error::UnsupportedMedia(_) => "media_unsupported",
            Error::ScanUnreadable(_) => "scan_unreadable",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::UnknownSigner(_) => "signer_unknown",
            Error::WrongPin { .. } => "pin_wrong",
            Error::KeyLocked { .. } => "key_locked",
            Error::TokenPinLocked => "token_pin_locked",
            Error::CertificateNotValid(_) => "certificate_not_valid",
            Error::CertificateRevoked => "certificate_revoked",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::CsvInvalid(_) => "csv_invalid",
            Error::TransitionNotAllowed { .. } => "transition_not_allowed",
            Error::CertificateMalformed(_) => "certificate_malformed",
            Error::CertificateHolderUnknown(_) => "certificate_holder_unknown",
            Error::CertificateNotRegistered(_) => "certificate_not_registered",
            Error::CrlMalformed(_) => "crl_malformed",
            Error::CrlUntrusted(_) => "crl_untrusted",
            Error::Timestamp(_) => "timestamp_failed",
            Error::ImageTooLarge { .. } => "image_too_large",
            Error::BodyTimeout { .. } => "body_timeout",
            Error::Busy { .. } => "busy",
            Error::RateLimited { .. } => "rate_limited",
            Error::CrossOrigin => "cross_origin",
            Error::Config(_) => "config_invalid",
            Error::Database(_) => "database_error",
            Error::Internal(_) => "internal_error",
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::NotPdf
            | Error::PdfMalformed(_)
            | Error::PdfEncrypted
            | Error::PdfTooComplex(_)
            | Error::BadRequest(_)
            | Error::CertificateMalformed(_)
            | Error::CrlMalformed(_)
            | Error::ScanUnreadable(_) => StatusCode::BAD_REQUEST,
            Error::ValidationFailed(_) | Error::PdfAlreadySigned | Error::PdfCertified(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Conflict(_) | Error::TransitionNotAllowed { .. } => StatusCode::CONFLICT,
            Error::TooLarge { .. } | Error::ImageTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::CrossOrigin => StatusCode::FORBIDDEN,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::UnknownSigner(_) | Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::WrongPin { .. } => StatusCode::FORBIDDEN,
            Error::KeyLocked { .. } | Error::TokenPinLocked => StatusCode::LOCKED,
            Error::CertificateNotValid(_)
            | Error::CertificateRevoked
            | Error::CsvInvalid(_)
            | Error::CertificateHolderUnknown(_)
            | Error::CertificateNotRegistered(_)
            | Error::CrlUntrusted(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Timestamp(_) => StatusCode::BAD_GATEWAY,
            Error::Config(_) | Error::Database(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = if status.is_server_error() {
            // The cause stays in the log; the client only learns that it was our fault.
            tracing::error!(error = %self, "request failed");
            "internal error; the incident was logged".to_owned()
        } else {
            self.to_string()
        };
        let mut error = json!({"code": self.code(), "message": message});
        match self {
            Error::ValidationFailed(fields) => error["fields"] = json!(fields),
            Error::WrongPin {
                attempts_left: Some(n),
            } => error["attempts_left"] = json!(n),
            _ => {}
        }
        let mut response = HttpResponse::build(status);
        if let Error::Busy { retry_after } | Error::RateLimited { retry_after } = self {
            response.insert_header((actix_web::http::header::RETRY_AFTER, *retry_after));
        }
        response.json(json!({ "error": error }))
    }
}

fn attempts_text(left: Option<u32>) -> String {
    match left {
        None => String::new(),
        Some(0) => "; no attempt left: the key is now locked".into(),
        Some(1) => "; 1 attempt left before the key is locked".into(),
        Some(n) => format!("; {n} attempts left before the key is locked"),
    }
}

/// One problem with one field of a request (`register.date`: "not a real date").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Inside the PDF core a lopdf failure means the document's structure is not what it claims.
impl From<lopdf::Error> for Error {
    fn from(e: lopdf::Error) -> Self {
        Error::PdfMalformed(e.to_string())
    }
}
