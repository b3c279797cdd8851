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
/// An uploaded file larger than this goes to a temporary file as it arrives (issue 9: a
/// 52 MB upload was held three times in memory); a smaller one stays in memory, where a
/// temporary file would cost more than it saves.
pub(crate) const SPOOL_ABOVE: usize = 1 << 20;

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
        .unwrap_or_else(|| Error::bad_request(format!("{what}: {e}")))
}

/// An uploaded file: in memory when small, else spooled to an unnamed temporary file and
/// mapped (the core gives back the pages it has read, `input`).
pub enum Upload {
    Memory(Vec<u8>),
    File(MappedFile),
}

impl Upload {
    /// Runs `f` over the upload's bytes.
    pub fn read<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Upload::Memory(bytes) => f(bytes),
            Upload::File(file) => file.read(f),
        }
    }

    /// The bytes in memory (a copy of a spooled upload), for code that keeps them.
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Upload::Memory(bytes) => bytes,
            Upload::File(file) => file.bytes().to_vec(),
        }
    }
}

/// An upload being received: in memory up to `SPOOL_ABOVE` bytes, then in a temporary file.
#[derive(Default)]
struct Spool {
    memory: BytesMut,
    file: Option<std::fs::File>,
}

impl Spool {
    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        use std::io::Write;
        if self.file.is_none() && self.memory.len() + chunk.len() > SPOOL_ABOVE {
            let mut file = tempfile::tempfile().map_err(Error::internal)?;
            file.write_all(&self.memory).map_err(Error::internal)?;
            self.memory = BytesMut::new();
            self.file = Some(file);
        }
        match &mut self.file {
            // A write into the page cache: it costs what the copy into memory it replaces cost.
            Some(file) => file.write_all(chunk).map_err(Error::internal),
            None => {
                self.memory.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<Upload> {
        match self.file {
            Some(file) => Ok(Upload::File(
                MappedFile::map(&file).map_err(Error::internal)?,
            )),
            None => Ok(Upload::Memory(self.memory.into())),
        }
    }
}

pub struct Form {
    /// In upload order; a name may repeat (several scanned pages under `file`).
    pub files: Vec<(String, Upload)>,
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
            let mut data = Spool::default();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| failed(&verdict, "multipart", e))?;
                if !is_file && data.memory.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(Error::bad_request(format!("field `{name}` is too long")));
                }
                data.write(&chunk)?;
            }
            if is_file {
                form.files.push((name, data.finish()?));
            } else {
                let text = String::from_utf8(data.memory.into())
                    .map_err(|_| Error::bad_request(format!("field `{name}` is not UTF-8")))?;
                form.texts.insert(name, text);
            }
        }
        Ok(form)
    }

    /// The file uploaded under `name`, spooled when large.
    pub fn upload(&mut self, name: &str) -> Result<Upload> {
        let at = self
            .files
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| Error::bad_request(format!("missing file field `{name}`")))?;
        Ok(self.files.remove(at).1)
    }

    /// The file uploaded under `name`, in memory.
    pub fn file(&mut self, name: &str) -> Result<Vec<u8>> {
        self.upload(name).map(Upload::into_vec)
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
        named.into_iter().map(|(_, data)| data.into_vec()).collect()
    }

    pub fn text(&mut self, name: &str) -> Result<String> {
        self.optional(name)
            .ok_or_else(|| Error::bad_request(format!("missing field `{name}`")))
    }

    pub fn optional(&mut self, name: &str) -> Option<String> {
        self.texts.remove(name).filter(|t| !t.trim().is_empty())
    }
}

/// A raw request body within `budget`, spooled as a form's file is: a large upload is never
/// held in memory.
pub async fn spooled(payload: web::Payload, budget: Budget) -> Result<Upload> {
    let verdict = Verdict::default();
    let mut stream = std::pin::pin!(metered(payload, budget, verdict.clone()));
    let mut spool = Spool::default();
    while let Some(chunk) = stream.next().await {
        spool.write(&chunk.map_err(|e| failed(&verdict, "body", e))?)?;
    }
    spool.finish()
}

/// A raw request body within `budget`, in memory.
pub async fn body(payload: web::Payload, budget: Budget) -> Result<Vec<u8>> {
    let verdict = Verdict::default();
    let mut stream = std::pin::pin!(metered(payload, budget, verdict.clone()));
    let mut data = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        data.extend_from_slice(&chunk.map_err(|e| failed(&verdict, "body", e))?);
    }
    Ok(data.into())
}
