//! Reading uploads: a multipart form's fields, or a raw body, with the size limit enforced
//! while streaming so an oversized upload is refused before it is held in memory.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::web::{self, BytesMut};
use futures_util::StreamExt;

use crate::error::{Error, Result};

/// Text fields are small; anything larger is not a PIN or a reason.
const MAX_TEXT_FIELD: usize = 16 * 1024;

pub struct Form {
    /// In upload order; a name may repeat (several scanned pages under `file`).
    pub files: Vec<(String, Vec<u8>)>,
    pub texts: HashMap<String, String>,
}

impl Form {
    pub async fn read(mut multipart: Multipart, limit: usize) -> Result<Form> {
        let mut form = Form {
            files: Vec::new(),
            texts: HashMap::new(),
        };
        let mut total = 0usize;
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(|e| Error::BadRequest(format!("multipart: {e}")))?;
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            let mut data = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| Error::BadRequest(format!("multipart: {e}")))?;
                total += chunk.len();
                if total > limit {
                    return Err(Error::TooLarge { limit });
                }
                if !is_file && data.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(Error::BadRequest(format!("field `{name}` is too long")));
                }
                data.extend_from_slice(&chunk);
            }
            if is_file {
                form.files.push((name, data.to_vec()));
            } else {
                let text = String::from_utf8(data.to_vec())
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

/// A raw request body, up to `limit` bytes.
pub async fn body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>> {
    let mut data = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::BadRequest(format!("body: {e}")))?;
        if data.len() + chunk.len() > limit {
            return Err(Error::TooLarge { limit });
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data.to_vec())
}
