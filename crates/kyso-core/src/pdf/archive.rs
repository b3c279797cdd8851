//! How long a file's timestamps keep it verifiable: a PAdES B-LTA archive lasts until its
//! newest timestamp's authority certificate expires, and is renewed by a new document
//! timestamp before then (ETSI EN 319 142-1 §5.5, "LTA level").

use chrono::{DateTime, Utc};
use lopdf::Object;

use crate::error::Result;
use crate::pdf::read::{self, Limits};
use crate::pdf::verify::cms;
use crate::pki::revocation::to_utc;

/// The newest timestamp of a file (a document timestamp or a signature's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewestTimestamp {
    pub time: DateTime<Utc>,
    /// When its authority's certificate expires.
    pub tsa_expires: DateTime<Utc>,
}

/// The newest timestamp whose token verifies over what it covers; `None` without any. Of two
/// with the same time (genTime often has whole seconds), the later in the file.
pub fn newest_timestamp(pdf: &[u8], limits: &Limits) -> Result<Option<NewestTimestamp>> {
    let parsed = read::parse(pdf, limits)?;
    let mut newest: Option<(NewestTimestamp, usize)> = None;
    for dict in parsed.doc.objects.values().filter_map(|o| o.as_dict().ok()) {
        let Ok(Object::String(contents, _)) = dict.get(b"Contents") else {
            continue;
        };
        let range: Vec<usize> = dict
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_i64().ok())
                    .filter_map(|v| usize::try_from(v).ok())
                    .collect()
            })
            .unwrap_or_default();
        let [a, b, c, d] = range[..] else {
            continue;
        };
        let is_document_timestamp =
            dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"DocTimeStamp");
        let checked = if is_document_timestamp {
            let (Some(first), Some(second)) = (
                pdf.get(a..a.saturating_add(b)),
                pdf.get(c..c.saturating_add(d)),
            ) else {
                continue;
            };
            cms::check_timestamp(contents, &[first, second])
        } else {
            let Ok(signature) = cms::parse(contents) else {
                continue;
            };
            let Some(token) = signature.timestamp_token() else {
                continue;
            };
            cms::check_timestamp(&token, &[signature.signer_info.signature.as_bytes()])
        };
        let Ok(ts) = checked else { continue };
        let Some(tsa_expires) = to_utc(ts.tsa.x509().not_after()) else {
            continue;
        };
        let end = c.saturating_add(d);
        if newest.is_none_or(|(n, n_end)| (ts.time, end) > (n.time, n_end)) {
            newest = Some((
                NewestTimestamp {
                    time: ts.time,
                    tsa_expires,
                },
                end,
            ));
        }
    }
    Ok(newest.map(|(n, _)| n))
}
