//! One error type for the whole service. Each kind has a stable machine code that clients can
//! rely on, and each code one HTTP status; the JSON body `{"error": {"code", "message"}}` is
//! derived from them in one place. The core's errors pass through as they are (their message
//! written once, in `kyso_core::Error`). Internal causes are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use kyso_core::Error as Core;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares [`ErrorCode`] from one list: the variants, their strings (`as_str`, the JSON body),
/// their HTTP statuses, and so the `enum` of the OpenAPI error schema all come from it.
macro_rules! error_codes {
    ($($variant:ident = $code:tt => $status:ident,)*) => {
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

            /// The HTTP status every error with this code answers with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    PdfNotPdf = "pdf_not_pdf" => BAD_REQUEST,
    PdfMalformed = "pdf_malformed" => BAD_REQUEST,
    PdfEncrypted = "pdf_encrypted" => BAD_REQUEST,
    PdfAlreadySigned = "pdf_already_signed" => UNPROCESSABLE_ENTITY,
    PdfTooComplex = "pdf_too_complex" => BAD_REQUEST,
    PdfCertified = "pdf_certified" => UNPROCESSABLE_ENTITY,
    PayloadTooLarge = "payload_too_large" => PAYLOAD_TOO_LARGE,
    BadRequest = "bad_request" => BAD_REQUEST,
    ValidationFailed = "validation_failed" => UNPROCESSABLE_ENTITY,
    MediaUnsupported = "media_unsupported" => UNSUPPORTED_MEDIA_TYPE,
    ScanUnreadable = "scan_unreadable" => BAD_REQUEST,
    Unauthorized = "unauthorized" => UNAUTHORIZED,
    Forbidden = "forbidden" => FORBIDDEN,
    SignerUnknown = "signer_unknown" => NOT_FOUND,
    PinWrong = "pin_wrong" => FORBIDDEN,
    KeyLocked = "key_locked" => LOCKED,
    TokenPinLocked = "token_pin_locked" => LOCKED,
    CertificateNotValid = "certificate_not_valid" => UNPROCESSABLE_ENTITY,
    CertificateRevoked = "certificate_revoked" => UNPROCESSABLE_ENTITY,
    NotFound = "not_found" => NOT_FOUND,
    Conflict = "conflict" => CONFLICT,
    CsvInvalid = "csv_invalid" => UNPROCESSABLE_ENTITY,
    TransitionNotAllowed = "transition_not_allowed" => CONFLICT,
    CertificateMalformed = "certificate_malformed" => BAD_REQUEST,
    CertificateHolderUnknown = "certificate_holder_unknown" => UNPROCESSABLE_ENTITY,
    CertificateNotRegistered = "certificate_not_registered" => UNPROCESSABLE_ENTITY,
    CrlMalformed = "crl_malformed" => BAD_REQUEST,
    CrlUntrusted = "crl_untrusted" => UNPROCESSABLE_ENTITY,
    SessionExpired = "session_expired" => GONE,
    SessionUsed = "session_used" => CONFLICT,
    SignatureInvalid = "signature_invalid" => UNPROCESSABLE_ENTITY,
    SignedPdfRejected = "signed_pdf_rejected" => UNPROCESSABLE_ENTITY,
    TimestampFailed = "timestamp_failed" => BAD_GATEWAY,
    RevocationUnavailable = "revocation_unavailable" => BAD_GATEWAY,
    ImageTooLarge = "image_too_large" => PAYLOAD_TOO_LARGE,
    BodyTimeout = "body_timeout" => REQUEST_TIMEOUT,
    Busy = "busy" => SERVICE_UNAVAILABLE,
    RateLimited = "rate_limited" => TOO_MANY_REQUESTS,
    CrossOrigin = "cross_origin" => FORBIDDEN,
    ZipInvalid = "zip_invalid" => BAD_REQUEST,
    ZipTooLarge = "zip_too_large" => PAYLOAD_TOO_LARGE,
    ZipEntryUnreadable = "zip_entry_unreadable" => BAD_REQUEST,
    ZipEntryUnsafeName = "zip_entry_unsafe_name" => BAD_REQUEST,
    ZipNested = "zip_nested" => BAD_REQUEST,
    ConfigInvalid = "config_invalid" => INTERNAL_SERVER_ERROR,
    DatabaseError = "database_error" => INTERNAL_SERVER_ERROR,
    InternalError = "internal_error" => INTERNAL_SERVER_ERROR,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What the core refuses: input it cannot read or sign, a key it cannot unlock, a request
    /// it cannot carry out (`InvalidInput`: the service's bad requests too), configuration,
    /// internal faults.
    #[error(transparent)]
    Core(#[from] Core),
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{} invalid field(s)", .0.len())]
    ValidationFailed(Vec<FieldError>),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this API key may not do that: {0}")]
    Forbidden(String),
    #[error("unknown signer `{0}`")]
    UnknownSigner(String),
    /// A wrong PIN as kyso counts it: `attempts_left` more lock the key. (A key store's own
    /// refusal, uncounted, is the core's `WrongPin`.)
    #[error("{}{}", Core::WrongPin, attempts_text(*.attempts_left))]
    WrongPin { attempts_left: u32 },
    #[error("this signer's key is locked after repeated wrong PINs; try again after {until}")]
    KeyLocked { until: String },
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
    #[error("database error")]
    Database(diesel::result::Error),
}

impl Error {
    /// The stable machine-readable code of this kind of error (and so its HTTP status).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::Core(core) => match core {
                Core::NotPdf => ErrorCode::PdfNotPdf,
                Core::PdfMalformed(_) => ErrorCode::PdfMalformed,
                Core::PdfEncrypted => ErrorCode::PdfEncrypted,
                Core::PdfAlreadySigned => ErrorCode::PdfAlreadySigned,
                Core::PdfTooComplex(_) => ErrorCode::PdfTooComplex,
                Core::PdfCertified(_) => ErrorCode::PdfCertified,
                Core::InvalidInput(_) => ErrorCode::BadRequest,
                Core::UnsupportedMedia(_) => ErrorCode::MediaUnsupported,
                Core::ScanUnreadable(_) => ErrorCode::ScanUnreadable,
                Core::ImageTooLarge { .. } => ErrorCode::ImageTooLarge,
                Core::WrongPin => ErrorCode::PinWrong,
                Core::TokenPinLocked => ErrorCode::TokenPinLocked,
                Core::CrlMalformed(_) => ErrorCode::CrlMalformed,
                Core::Timestamp(_) => ErrorCode::TimestampFailed,
                Core::Revocation(_) => ErrorCode::RevocationUnavailable,
                Core::Config(_) => ErrorCode::ConfigInvalid,
                Core::Internal(_) => ErrorCode::InternalError,
            },
            Error::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Error::ValidationFailed(_) => ErrorCode::ValidationFailed,
            Error::Unauthorized => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::UnknownSigner(_) => ErrorCode::SignerUnknown,
            Error::WrongPin { .. } => ErrorCode::PinWrong,
            Error::KeyLocked { .. } => ErrorCode::KeyLocked,
            Error::CertificateNotValid(_) => ErrorCode::CertificateNotValid,
            Error::CertificateRevoked => ErrorCode::CertificateRevoked,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::CsvInvalid(_) => ErrorCode::CsvInvalid,
            Error::TransitionNotAllowed { .. } => ErrorCode::TransitionNotAllowed,
            Error::CertificateMalformed(_) => ErrorCode::CertificateMalformed,
            Error::CertificateHolderUnknown(_) => ErrorCode::CertificateHolderUnknown,
            Error::CertificateNotRegistered(_) => ErrorCode::CertificateNotRegistered,
            Error::CrlUntrusted(_) => ErrorCode::CrlUntrusted,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::SessionUsed => ErrorCode::SessionUsed,
            Error::SignatureInvalid(_) => ErrorCode::SignatureInvalid,
            Error::SignedPdfRejected(_) => ErrorCode::SignedPdfRejected,
            Error::BodyTimeout { .. } => ErrorCode::BodyTimeout,
            Error::Busy { .. } => ErrorCode::Busy,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::CrossOrigin => ErrorCode::CrossOrigin,
            Error::ZipInvalid(_) => ErrorCode::ZipInvalid,
            Error::ZipTooLarge(_) => ErrorCode::ZipTooLarge,
            Error::ZipEntryUnreadable(_) => ErrorCode::ZipEntryUnreadable,
            Error::ZipEntryUnsafeName => ErrorCode::ZipEntryUnsafeName,
            Error::ZipNested => ErrorCode::ZipNested,
            Error::Database(_) => ErrorCode::DatabaseError,
        }
    }

    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// A request the service cannot carry out as asked (`bad_request`).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::Core(Core::InvalidInput(message.into()))
    }

    /// Settings, files or a database the service cannot use (`config_invalid`).
    pub fn config(message: impl Into<String>) -> Self {
        Error::Core(Core::Config(message.into()))
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Core(Core::internal(cause))
    }

    /// kyso's own fault (configuration, database, a bug), not the client's nor a busy or
    /// failing upstream.
    pub fn is_internal(&self) -> bool {
        self.status_code() == StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.error_code().status()
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
            Error::WrongPin { attempts_left } => Some(*attempts_left),
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

fn attempts_text(left: u32) -> String {
    match left {
        0 => "; no attempt left: the key is now locked".into(),
        1 => "; 1 attempt left before the key is locked".into(),
        n => format!("; {n} attempts left before the key is locked"),
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
                Error::bad_request("text must not contain the NUL character (U+0000)")
            }
            e => Error::Database(e),
        }
    }
}
