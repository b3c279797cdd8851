//! Reading uploads: a multipart form's fields, or a raw body, within a budget of bytes and
//! time counted on the wire (multipart boundaries and part headers included, so thousands of
//! empty parts cost what they weigh), enforced while streaming so an oversized or trickled
//! upload is refused before it is held in memory.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header::HeaderMap;
use actix_web::rt::time::{timeout, Instant};
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::input::MappedFile;

/// Text fields are small; anything larger is not a PIN or a reason.
const MAX_TEXT_FIELD: usize = 16 * 1024;

/// What one request body may cost.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Bytes on the wire.
    pub limit: usize,
    /// From the first read to the last byte.
    pub timeout: Duration,
}

impl Budget {
    /// `limit` bytes within the configured body timeout.
    pub fn new(settings: &Settings, limit: usize) -> Budget {
        Budget {
            limit,
            timeout: Duration::from_secs(settings.security.body_timeout_secs),
        }
    }

    /// The upload limit (`max_upload_bytes`) within the configured body timeout.
    pub fn upload(settings: &Settings) -> Budget {
        Budget::new(settings, settings.max_upload_bytes)
    }
}

/// Why a metered body stopped, kept beside the stream: the multipart parser turns the
/// stream's error into its own, and the client deserves the real reason.
type Verdict = Rc<Cell<Option<Error>>>;

/// The body as a stream that ends with an error once it exceeds the budget.
fn metered(
    payload: web::Payload,
    budget: Budget,
    verdict: Verdict,
) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    let deadline = Instant::now() + budget.timeout;
    // The state is `None` once the stream has failed: nothing is read after an error.
    futures_util::stream::unfold(Some((payload, 0usize)), move |state| {
        let verdict = verdict.clone();
        async move {
            let (mut payload, total) = state?;
            let stop = |error: Error, why: PayloadError| {
                verdict.set(Some(error));
                Some((Err(why), None))
            };
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, payload.next()).await {
                Err(_) => stop(
                    Error::BodyTimeout {
                        secs: budget.timeout.as_secs(),
                    },
                    PayloadError::Io(std::io::ErrorKind::TimedOut.into()),
                ),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some((Err(e), None)),
                Ok(Some(Ok(chunk))) => {
                    let total = total + chunk.len();
                    if total > budget.limit {
                        return stop(
                            Error::TooLarge {
                                limit: budget.limit,
                            },
                            PayloadError::Overflow,
                        );
                    }
                    Some((Ok(chunk), Some((payload, total))))
                }
            }
        }
    })
    // The multipart parser may ask again after the end.
    .fuse()
}

/// The reason a metered read failed: the budget's verdict, else `what` went wrong.
fn failed(verdict: &Verdict, what: &str, e: impl std::fmt::Display) -> Error {
    verdict
        .take()
        .unwrap_or_else(|| Error::BadRequest(format!("{what}: {e}")))
}

pub struct Form {
    /// In upload order; a name may repeat (several scanned pages under `file`).
    pub files: Vec<(String, Vec<u8>)>,
    pub texts: HashMap<String, String>,
}

impl Form {
    pub async fn read(headers: &HeaderMap, payload: web::Payload, budget: Budget) -> Result<Form> {
        let verdict = Verdict::default();
        let mut multipart = Multipart::new(headers, metered(payload, budget, verdict.clone()));
        let mut form = Form {
            files: Vec::new(),
            texts: HashMap::new(),
        };
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(|e| failed(&verdict, "multipart", e))?;
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            let mut data = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| failed(&verdict, "multipart", e))?;
                if !is_file && data.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(Error::BadRequest(format!("field `{name}` is too long")));
                }
                data.extend_from_slice(&chunk);
            }
            if is_file {
                form.files.push((name, data.into()));
            } else {
                let text = String::from_utf8(data.into())
                    .map_err(|_| Error::BadRequest(format!("field `{name}` is not UTF-8")))?;
                form.texts.insert(name, text);
            }
        }
        Ok(form)
    }

    pub fn file(&mut self, name: &str) -> Result<Vec<u8>> {
        let at = self
            .files
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| Error::BadRequest(format!("missing file field `{name}`")))?;
        Ok(self.files.remove(at).1)
    }

    /// A field sent as a file or as text (a PEM certificate pasted into a form).
    pub fn file_or_text(&mut self, name: &str) -> Result<Vec<u8>> {
        match self.file(name) {
            Ok(data) => Ok(data),
            Err(_) => self.text(name).map(String::into_bytes),
        }
    }

    /// Every file uploaded under `name`, in order.
    pub fn all_files(&mut self, name: &str) -> Vec<Vec<u8>> {
        let (named, rest) = std::mem::take(&mut self.files)
            .into_iter()
            .partition(|(n, _)| n == name);
        self.files = rest;
        named.into_iter().map(|(_, data)| data).collect()
    }

    pub fn text(&mut self, name: &str) -> Result<String> {
        self.optional(name)
            .ok_or_else(|| Error::BadRequest(format!("missing field `{name}`")))
    }

    pub fn optional(&mut self, name: &str) -> Option<String> {
        self.texts.remove(name).filter(|t| !t.trim().is_empty())
    }
}

/// A raw request body within `budget`.
/// The body written to an unnamed temporary file as it arrives, then mapped: a large upload is
/// never held in memory, and the verifier gives back the pages it has read (`input`).
pub async fn spooled(payload: web::Payload, budget: Budget) -> Result<MappedFile> {
    let verdict = Verdict::default();
    let mut stream = std::pin::pin!(metered(payload, budget, verdict.clone()));
    let mut file = tempfile::tempfile().map_err(Error::internal)?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(&verdict, "body", e))?;
        // A write into the page cache: it costs what the copy into memory it replaces cost.
        std::io::Write::write_all(&mut file, &chunk).map_err(Error::internal)?;
    }
    MappedFile::map(&file).map_err(Error::internal)
}

pub async fn body(payload: web::Payload, budget: Budget) -> Result<Vec<u8>> {
    let verdict = Verdict::default();
    let mut stream = std::pin::pin!(metered(payload, budget, verdict.clone()));
    let mut data = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        data.extend_from_slice(&chunk.map_err(|e| failed(&verdict, "body", e))?);
    }
    Ok(data.into())
}
