//! One error type for the whole service. Each kind has a stable machine code that clients can
//! rely on; the HTTP status and the JSON body `{"error": {"code", "message"}}` are derived from
//! it in one place. Internal causes are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares [`ErrorCode`] from one list: the variants, their strings (`as_str`, the JSON body)
/// and so the `enum` of the OpenAPI error schema all come from it.
macro_rules! error_codes {
    ($($variant:ident = $code:tt,)*) => {
        /// The stable machine-readable code of an error, as clients see it in `error.code`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    PdfNotPdf = "pdf_not_pdf",
    PdfMalformed = "pdf_malformed",
    PdfEncrypted = "pdf_encrypted",
    PdfAlreadySigned = "pdf_already_signed",
    PdfTooComplex = "pdf_too_complex",
    PdfCertified = "pdf_certified",
    PayloadTooLarge = "payload_too_large",
    BadRequest = "bad_request",
    ValidationFailed = "validation_failed",
    MediaUnsupported = "media_unsupported",
    ScanUnreadable = "scan_unreadable",
    Unauthorized = "unauthorized",
    Forbidden = "forbidden",
    SignerUnknown = "signer_unknown",
    PinWrong = "pin_wrong",
    KeyLocked = "key_locked",
    TokenPinLocked = "token_pin_locked",
    CertificateNotValid = "certificate_not_valid",
    CertificateRevoked = "certificate_revoked",
    NotFound = "not_found",
    Conflict = "conflict",
    CsvInvalid = "csv_invalid",
    TransitionNotAllowed = "transition_not_allowed",
    CertificateMalformed = "certificate_malformed",
    CertificateHolderUnknown = "certificate_holder_unknown",
    CertificateNotRegistered = "certificate_not_registered",
    CrlMalformed = "crl_malformed",
    CrlUntrusted = "crl_untrusted",
    SessionExpired = "session_expired",
    SessionUsed = "session_used",
    SignatureInvalid = "signature_invalid",
    SignedPdfRejected = "signed_pdf_rejected",
    TimestampFailed = "timestamp_failed",
    RevocationUnavailable = "revocation_unavailable",
    ImageTooLarge = "image_too_large",
    BodyTimeout = "body_timeout",
    Busy = "busy",
    RateLimited = "rate_limited",
    CrossOrigin = "cross_origin",
    ZipInvalid = "zip_invalid",
    ZipTooLarge = "zip_too_large",
    ZipEntryUnreadable = "zip_entry_unreadable",
    ZipEntryUnsafeName = "zip_entry_unsafe_name",
    ZipNested = "zip_nested",
    ConfigInvalid = "config_invalid",
    DatabaseError = "database_error",
    InternalError = "internal_error",
}

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
    #[error("the signing session has expired; start a new one")]
    SessionExpired,
    #[error("the signing session is already finished; start a new one")]
    SessionUsed,
    #[error("the signature does not verify against the session's certificate: {0}")]
    SignatureInvalid(String),
    #[error("the signed PDF is refused: {0}")]
    SignedPdfRejected(String),
    #[error("the time-stamping authority failed: {0}")]
    Timestamp(String),
    /// An OCSP answer or a CRL could not be had or does not check.
    #[error("revocation data unavailable: {0}")]
    Revocation(String),
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
    #[error("not a readable ZIP archive: {0}")]
    ZipInvalid(String),
    #[error("the ZIP archive is too large: {0}")]
    ZipTooLarge(String),
    #[error("this entry of the ZIP archive cannot be read: {0}")]
    ZipEntryUnreadable(String),
    #[error("this entry's name leads outside the archive (absolute, or `..`); it was not read")]
    ZipEntryUnsafeName,
    #[error("an archive inside the archive is not opened")]
    ZipNested,
    #[error("configuration error: {0}")]
    Config(String),
    #[error("database error")]
    Database(diesel::result::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable machine-readable code of this kind of error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::NotPdf => ErrorCode::PdfNotPdf,
            Error::PdfMalformed(_) => ErrorCode::PdfMalformed,
            Error::PdfEncrypted => ErrorCode::PdfEncrypted,
            Error::PdfAlreadySigned => ErrorCode::PdfAlreadySigned,
            Error::PdfTooComplex(_) => ErrorCode::PdfTooComplex,
            Error::PdfCertified(_) => ErrorCode::PdfCertified,
            Error::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::ValidationFailed(_) => ErrorCode::ValidationFailed,
            Error::UnsupportedMedia(_) => ErrorCode::MediaUnsupported,
            Error::ScanUnreadable(_) => ErrorCode::ScanUnreadable,
            Error::Unauthorized => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::UnknownSigner(_) => ErrorCode::SignerUnknown,
            Error::WrongPin { .. } => ErrorCode::PinWrong,
            Error::KeyLocked { .. } => ErrorCode::KeyLocked,
            Error::TokenPinLocked => ErrorCode::TokenPinLocked,
            Error::CertificateNotValid(_) => ErrorCode::CertificateNotValid,
            Error::CertificateRevoked => ErrorCode::CertificateRevoked,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::CsvInvalid(_) => ErrorCode::CsvInvalid,
            Error::TransitionNotAllowed { .. } => ErrorCode::TransitionNotAllowed,
            Error::CertificateMalformed(_) => ErrorCode::CertificateMalformed,
            Error::CertificateHolderUnknown(_) => ErrorCode::CertificateHolderUnknown,
            Error::CertificateNotRegistered(_) => ErrorCode::CertificateNotRegistered,
            Error::CrlMalformed(_) => ErrorCode::CrlMalformed,
            Error::CrlUntrusted(_) => ErrorCode::CrlUntrusted,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::SessionUsed => ErrorCode::SessionUsed,
            Error::SignatureInvalid(_) => ErrorCode::SignatureInvalid,
            Error::SignedPdfRejected(_) => ErrorCode::SignedPdfRejected,
            Error::Timestamp(_) => ErrorCode::TimestampFailed,
            Error::Revocation(_) => ErrorCode::RevocationUnavailable,
            Error::ImageTooLarge { .. } => ErrorCode::ImageTooLarge,
            Error::BodyTimeout { .. } => ErrorCode::BodyTimeout,
            Error::Busy { .. } => ErrorCode::Busy,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::CrossOrigin => ErrorCode::CrossOrigin,
            Error::ZipInvalid(_) => ErrorCode::ZipInvalid,
            Error::ZipTooLarge(_) => ErrorCode::ZipTooLarge,
            Error::ZipEntryUnreadable(_) => ErrorCode::ZipEntryUnreadable,
            Error::ZipEntryUnsafeName => ErrorCode::ZipEntryUnsafeName,
            Error::ZipNested => ErrorCode::ZipNested,
            Error::Config(_) => ErrorCode::ConfigInvalid,
            Error::Database(_) => ErrorCode::DatabaseError,
            Error::Internal(_) => ErrorCode::InternalError,
        }
    }

    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
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
            | Error::ScanUnreadable(_)
            | Error::ZipInvalid(_)
            | Error::ZipEntryUnreadable(_)
            | Error::ZipEntryUnsafeName
            | Error::ZipNested => StatusCode::BAD_REQUEST,
            Error::ValidationFailed(_) | Error::PdfAlreadySigned | Error::PdfCertified(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Conflict(_) | Error::TransitionNotAllowed { .. } | Error::SessionUsed => {
                StatusCode::CONFLICT
            }
            Error::SessionExpired => StatusCode::GONE,
            Error::TooLarge { .. } | Error::ImageTooLarge { .. } | Error::ZipTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
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
            | Error::CrlUntrusted(_)
            | Error::SignatureInvalid(_)
            | Error::SignedPdfRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Timestamp(_) | Error::Revocation(_) => StatusCode::BAD_GATEWAY,
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
        let fields = match self {
            Error::ValidationFailed(fields) => Some(fields.clone()),
            _ => None,
        };
        let attempts_left = match self {
            Error::WrongPin { attempts_left } => *attempts_left,
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        if let Error::Busy { retry_after } | Error::RateLimited { retry_after } = self {
            response.insert_header((actix_web::http::header::RETRY_AFTER, *retry_after));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.error_code(),
                message,
                fields,
                attempts_left,
            },
        })
    }
}

/// The body of every error answer of the API: `{"error": {"code", "message"}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people, in English; never an internal cause.
    pub message: String,
    /// With `validation_failed`: every problem at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    /// With `pin_wrong`: wrong PINs still allowed before the key is locked (at least).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            // PostgreSQL stores no U+0000 in text ("invalid byte sequence for encoding UTF8:
            // 0x00"): that is the client's input, not our fault (found by schemathesis).
            diesel::result::Error::DatabaseError(_, ref info)
                if info.message().contains("0x00") =>
            {
                Error::BadRequest("text must not contain the NUL character (U+0000)".into())
            }
            e => Error::Database(e),
        }
    }
}

/// The core's errors keep their message; each maps to the kind (so the HTTP status and the
/// stable code) it had when the core returned the service's error directly.
impl From<kyso_core::Error> for Error {
    fn from(e: kyso_core::Error) -> Self {
        use kyso_core::Error as Core;
        match e {
            Core::NotPdf => Error::NotPdf,
            Core::PdfMalformed(m) => Error::PdfMalformed(m),
            Core::PdfEncrypted => Error::PdfEncrypted,
            Core::PdfAlreadySigned => Error::PdfAlreadySigned,
            Core::PdfTooComplex(m) => Error::PdfTooComplex(m),
            Core::PdfCertified(m) => Error::PdfCertified(m),
            Core::InvalidInput(m) => Error::BadRequest(m),
            Core::UnsupportedMedia(m) => Error::UnsupportedMedia(m),
            Core::ScanUnreadable(m) => Error::ScanUnreadable(m),
            Core::ImageTooLarge { pixels, limit } => Error::ImageTooLarge { pixels, limit },
            Core::WrongPin => Error::WrongPin {
                attempts_left: None,
            },
            Core::TokenPinLocked => Error::TokenPinLocked,
            Core::CrlMalformed(m) => Error::CrlMalformed(m),
            Core::Timestamp(m) => Error::Timestamp(m),
            Core::Revocation(m) => Error::Revocation(m),
            Core::Config(m) => Error::Config(m),
            Core::Internal(m) => Error::Internal(m),
        }
    }
}
