//! Many files at once: `kyso verify DIR|FILE…` and `POST /api/v1/verify/batch` (a ZIP of
//! PDFs) verify each file as a single upload would be, and summarise one row per file — its
//! indication, how many signatures, the first problem — as JSON or CSV. A file that cannot be
//! verified (not a PDF, damaged, a nested archive …) is a row with its stable error code, never
//! the end of the batch.
//!
//! A ZIP is untrusted: its entries are counted before the archive is parsed, each is
//! decompressed within the single-upload limit and all together within a total, a name that
//! climbs out of the archive is not used, and an archive inside is never opened.

use std::io::{Cursor, IsTerminal, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pdf::verify::{self, report::Indication, report::Report};

/// Indication of a row whose file could not be verified (`code` says why).
pub const NOT_VERIFIED: &str = "NOT_VERIFIED";

/// One file of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub file: String,
    /// `TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE`, or `NOT_VERIFIED`.
    pub indication: String,
    pub signatures: usize,
    /// The stable error code when the file was not verified.
    pub code: Option<String>,
    /// The first problem found (English), if any.
    pub problem: Option<String>,
    /// The full report, when the batch keeps them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl Row {
    pub fn passed(&self) -> bool {
        self.indication == "TOTAL_PASSED"
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub files: usize,
    pub passed: usize,
    pub failed: usize,
    pub results: Vec<Row>,
}

impl Summary {
    /// The rows as CSV: `file,indication,signatures,code,problem`.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["file", "indication", "signatures", "code", "problem"])
            .map_err(Error::internal)?;
        for row in &self.results {
            out.write_record([
                row.file.as_str(),
                row.indication.as_str(),
                &row.signatures.to_string(),
                row.code.as_deref().unwrap_or(""),
                row.problem.as_deref().unwrap_or(""),
            ])
            .map_err(Error::internal)?;
        }
        out.into_inner().map_err(Error::internal)
    }
}

/// Rows gathered one file at a time, so only one file is in memory at once.
pub struct Batch<'a> {
    ctx: &'a verify::Context<'a>,
    keep_reports: bool,
    rows: Vec<Row>,
}

impl<'a> Batch<'a> {
    pub fn new(ctx: &'a verify::Context<'a>, keep_reports: bool) -> Batch<'a> {
        Batch {
            ctx,
            keep_reports,
            rows: Vec::new(),
        }
    }

    /// Verifies `file` (or records why its bytes could not be had); returns its row.
    pub fn add(&mut self, file: String, pdf: Result<Vec<u8>>) -> &Row {
        let verified = pdf.and_then(|pdf| Ok(verify::verify(&pdf, self.ctx)?));
        let row = match verified {
            Ok(report) => Row {
                file,
                indication: report.indication.to_string(),
                signatures: report.signatures.len(),
                code: None,
                problem: first_problem(&report),
                report: self.keep_reports.then_some(report),
            },
            Err(e) => not_verified(file, &e),
        };
        self.rows.push(row);
        let last = self.rows.len() - 1;
        &self.rows[last]
    }

    pub fn finish(self) -> Summary {
        let passed = self.rows.iter().filter(|r| r.passed()).count();
        Summary {
            files: self.rows.len(),
            passed,
            failed: self.rows.len() - passed,
            results: self.rows,
        }
    }
}

fn not_verified(file: String, error: &Error) -> Row {
    Row {
        file,
        indication: NOT_VERIFIED.into(),
        signatures: 0,
        code: Some(error.code().into()),
        // A server-side failure says no more than a single upload's answer would.
        problem: Some(match error {
            error if error.is_internal() => "internal error; the incident was logged".into(),
            other => other.to_string(),
        }),
        report: None,
    }
}

/// What is wrong, first: the first problem of the first signature that did not pass, or the
/// summary when there is no signature.
fn first_problem(report: &Report) -> Option<String> {
    if report.indication == Indication::TotalPassed {
        return None;
    }
    let failing = report
        .signatures
        .iter()
        .find(|s| s.indication != Indication::TotalPassed);
    Some(match failing {
        Some(s) => s.problems.first().cloned().unwrap_or_else(|| {
            let sub = s
                .sub_indication
                .map(|x| format!("{x}: "))
                .unwrap_or_default();
            format!("{}: {sub}{}", s.field, s.explanation.en)
        }),
        None => report.summary.en.clone(),
    })
}

/// The files `paths` name: files as given, folders walked (sorted, hidden entries skipped,
/// symbolic links to folders not followed, so a link loop cannot trap the walk). A path that
/// does not exist is an error before anything is verified.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    // Hand-written: a sorted walk is a few lines of std, not worth a dependency.
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let read = |e: std::io::Error| Error::bad_request(format!("{}: {e}", dir.display()));
        let mut entries = std::fs::read_dir(dir)
            .map_err(read)?
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(read)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            match entry.file_type().map_err(read)? {
                kind if kind.is_dir() => walk(&path, out)?,
                kind if kind.is_file() => out.push(path),
                _ if path.is_file() => out.push(path),
                _ => {}
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(Error::bad_request(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// Verifies `files` one by one, with a progress bar on standard error when it is a terminal.
pub fn verify_files(files: &[PathBuf], ctx: &verify::Context<'_>) -> Summary {
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut batch = Batch::new(ctx, false);
    for path in files {
        let name = path.display().to_string();
        bar.set_message(name.clone());
        let pdf = std::fs::read(path).map_err(|e| Error::bad_request(format!("cannot read: {e}")));
        batch.add(name, pdf);
        bar.inc(1);
    }
    bar.finish_and_clear();
    batch.finish()
}

/// What one ZIP may cost besides its own upload limit.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    /// Bytes of one entry once decompressed (the single-upload limit).
    pub max_entry_bytes: usize,
    /// Entries (files and folders) in the archive.
    pub max_entries: usize,
    /// Bytes of all entries once decompressed.
    pub max_total_bytes: u64,
}

/// Central directory headers (`PK\1\2`): counted in the raw bytes before the archive is
/// parsed, because parsing builds a record per entry — a 64 MiB archive of empty entries would
/// cost far more memory than its size. Compressed data may hold the signature by chance,
/// which only over-counts.
fn entry_headers(zip: &[u8]) -> usize {
    memchr::memmem::find_iter(zip, b"PK\x01\x02").count()
}

/// Verifies every file of `zip` into `batch`, in the archive's order; folders are skipped.
pub fn verify_zip(zip: &[u8], limits: &ZipLimits, batch: &mut Batch<'_>) -> Result<()> {
    let too_many = |n: usize| {
        Error::ZipTooLarge(format!(
            "{n} entries; at most {} are verified at once",
            limits.max_entries
        ))
    };
    let headers = entry_headers(zip);
    if headers > limits.max_entries {
        return Err(too_many(headers));
    }
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| Error::ZipInvalid(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(too_many(archive.len()));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let listed = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            _ => format!("#{index}"),
        };
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                // Encrypted, or compressed by a method kyso does not read: that file only.
                batch.add(listed, Err(Error::ZipEntryUnreadable(e.to_string())));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        // `enclosed_name` refuses `..` escapes but makes `/abs` relative; neither is used here.
        if entry.enclosed_name().is_none() || listed.starts_with(['/', '\\']) {
            batch.add(listed, Err(Error::ZipEntryUnsafeName));
            continue;
        }
        let name = listed;
        // The declared size may lie: read one byte past the limit to know.
        let mut bytes = Vec::new();
        let read = (&mut entry)
            .take(limits.max_entry_bytes as u64 + 1)
            .read_to_end(&mut bytes);
        total += bytes.len() as u64;
        if total > limits.max_total_bytes {
            return Err(Error::ZipTooLarge(format!(
                "more than {} bytes once decompressed",
                limits.max_total_bytes
            )));
        }
        let pdf = match read {
            Err(e) => Err(Error::ZipEntryUnreadable(e.to_string())),
            Ok(_) if bytes.len() > limits.max_entry_bytes => Err(Error::TooLarge {
                limit: limits.max_entry_bytes,
            }),
            Ok(_) if is_archive(&name, &bytes) => Err(Error::ZipNested),
            Ok(_) => Ok(bytes),
        };
        batch.add(name, pdf);
    }
    Ok(())
}

/// A ZIP inside the ZIP (by its signature or its name): never opened.
fn is_archive(name: &str, bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(b"PK\x05\x06")
        || name.to_ascii_lowercase().ends_with(".zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_headers_are_counted_in_the_raw_bytes() {
        let mut zip = Vec::new();
        {
            let mut writer = zip::ZipWriter::new(Cursor::new(&mut zip));
            for n in 0..3 {
                writer
                    .start_file(format!("{n}.txt"), zip::write::SimpleFileOptions::default())
                    .unwrap();
            }
            writer.finish().unwrap();
        }
        assert_eq!(entry_headers(&zip), 3);
    }
}
