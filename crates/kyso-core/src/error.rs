//! The core's errors: input it cannot read or sign, keys it cannot unlock, configuration it
//! cannot use. An invalid signature is not among them: verification reports it as a value.
//! The messages are the ones users see; the service maps each kind to its HTTP status and
//! stable error code (`kyso::error`).

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
    /// A request the core cannot carry out on this input (a page the document lacks, an
    /// unsupported signature algorithm…).
    #[error("invalid request: {0}")]
    InvalidInput(String),
    #[error("unsupported file type: {0}")]
    UnsupportedMedia(String),
    #[error("the scan cannot be read: {0}")]
    ScanUnreadable(String),
    #[error("an image of {pixels} pixels exceeds the limit of {limit}")]
    ImageTooLarge { pixels: u64, limit: u64 },
    /// The key store or token refused the PIN (neither counts attempts; the service does).
    #[error("wrong PIN for this signer's key")]
    WrongPin,
    /// The token itself refuses its user PIN after too many wrong ones (CKR_PIN_LOCKED); only
    /// its security officer can unblock it.
    #[error("the signer's token has locked its PIN; its security officer must unblock it")]
    TokenPinLocked,
    #[error("not a certificate revocation list (PEM or DER): {0}")]
    CrlMalformed(String),
    #[error("the time-stamping authority failed: {0}")]
    Timestamp(String),
    /// An OCSP answer or a CRL could not be had or does not check.
    #[error("revocation data unavailable: {0}")]
    Revocation(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }
}

/// Inside the PDF core a lopdf failure means the document's structure is not what it claims.
impl From<lopdf::Error> for Error {
    fn from(e: lopdf::Error) -> Self {
        Error::PdfMalformed(e.to_string())
    }
}
