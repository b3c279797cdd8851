//! Validation of every signature in a PDF, ours or anyone's: structure first (byte ranges,
//! revisions), then the CMS (digest, signature value), then trust (chain at the right time,
//! revocation at signing time, key usage), then what changed after signing. An invalid
//! signature is a result with an ETSI EN 319 102-1 indication; `Err` is for unreadable input.

mod carried;
mod changes;
pub mod cms;
mod explain;
mod poe;
pub mod report;
mod structure;

use std::cell::{Cell, OnceCell};
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use chrono::{DateTime, Utc};
use lopdf::{Dictionary, Document, Object, ObjectId};
use openssl::sha::Sha256;
use openssl::x509::{X509Crl, X509};

use self::carried::Carried;
use self::poe::{Poe, Proofs, Status};
use self::report::*;
use crate::error::{Error, Result};
use crate::pdf::read::{self, Deadline, Limits};
use crate::pki::algorithms::Digest;
use crate::pki::certificate::Certificate;
use crate::pki::ocsp;
use crate::pki::revocation::{RevocationSource, Statement};
use crate::pki::trust::{ChainError, TrustStore};

/// What validation trusts, and when "now" is.
pub struct Context<'a> {
    pub trust: &'a TrustStore,
    pub revocation: &'a RevocationSource,
    /// The validation time: now, or a time asked for (`kyso verify --at`, `at` on the API);
    /// timestamps prove earlier times for certificates no longer valid at it.
    pub now: DateTime<Utc>,
    pub limits: Limits,
}

impl<'a> Context<'a> {
    /// Validation as of the present moment.
    pub fn now(trust: &'a TrustStore, revocation: &'a RevocationSource, limits: Limits) -> Self {
        Context {
            trust,
            revocation,
            now: Utc::now(),
            limits,
        }
    }

    /// Revocation data and issuers are fetched only when validating at the present time (a
    /// time asked for, `--at`, is judged from what is held: today's answers do not speak for
    /// it).
    fn live(&self) -> bool {
        self.revocation.fetching() && (Utc::now() - self.now).num_seconds().abs() < 300
    }
}

pub fn verify(pdf: &[u8], ctx: &Context<'_>) -> Result<Report> {
    // Reading the file counts against the time budget too.
    let deadline = Deadline::new(&ctx.limits);
    let blanked = read::signature_values(pdf);
    let read::Parsed {
        doc,
        warnings,
        repaired,
        ..
    } = read::parse_blanked(pdf, &ctx.limits, &blanked, deadline)?;
    let revisions = structure::revision_ends(pdf);
    let dss = Dss::load(pdf, &doc, ctx.limits.max_inflated_bytes, &deadline);
    deadline.check()?;
    let mut fields = signature_fields(&doc);
    let orphans = orphan_signatures(&doc, &fields);
    let held = fields.len();
    fields.extend(orphans);
    if fields.len() > MAX_SIGNATURES {
        return Err(Error::PdfMalformed(format!(
            "more than {MAX_SIGNATURES} signatures: not verified"
        )));
    }
    check_hashed_bytes(pdf.len(), &fields, &ctx.limits)?;
    // The signatures whose first byte range is the file's beginning, nearly all of it for the
    // last one, continue from the document digest's state there: the file is read once.
    let cuts: BTreeSet<usize> = fields
        .iter()
        .filter_map(|sig| structure::byte_ranges(pdf.len(), &byte_range(sig.dict)))
        .filter(|(ranges, _)| ranges[0].start == 0)
        .map(|(ranges, _)| ranges[0].end)
        .collect();
    let (digest, heads) = document_digest(pdf, &cuts);
    let history = History::new(
        pdf,
        &blanked,
        &revisions,
        &doc,
        &ctx.limits,
        repaired,
        deadline,
    );
    // Document timestamps first, newest first: each proves that everything before it,
    // earlier document timestamps included, existed at its time.
    let mut order: Vec<usize> = (0..fields.len()).collect();
    order.sort_by_key(|&i| {
        let sig = &fields[i];
        let is_stamp =
            sig.dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"DocTimeStamp");
        (!is_stamp, std::cmp::Reverse(signed_end(sig.dict)))
    });
    let mut proofs = Proofs::default();
    let mut reports: Vec<Option<SignatureReport>> = fields.iter().map(|_| None).collect();
    for i in order {
        let validation = Validation {
            pdf,
            heads: &heads,
            blanked: &blanked,
            doc: &doc,
            ctx,
            revisions: &revisions,
            dss: &dss,
            history: &history,
            proofs: &proofs,
        };
        let report = validation.run(&fields[i]);
        // A document timestamp no field holds is reported as failed below: it proves nothing.
        if let (true, Some(revision), Some(time)) =
            (i < held, report.coverage.revision, proven_time(&report))
        {
            proofs.add(revision, time, &report.field);
        }
        reports[i] = Some(report);
        // Checked after each signature too, so that a report cut short is never returned.
        deadline.check()?;
    }
    let mut signatures: Vec<SignatureReport> = reports.into_iter().flatten().collect();
    flag_shared_revisions(&mut signatures);
    mark_archival(&mut signatures);
    for sig in signatures.iter_mut().skip(held) {
        sig.problems.push("no form field holds this signature: a viewer may show it, but it is not part of the form".into());
        fail(sig, Indication::TotalFailed, SubIndication::FormatFailure);
    }

    let indication = signatures
        .iter()
        .map(|s| s.indication)
        .max()
        .unwrap_or(Indication::Indeterminate);
    Ok(Report {
        summary: explain::summary(&signatures, indication),
        document: DocumentInfo {
            sha256: hex::encode(digest),
            size: pdf.len(),
            revisions: revisions.len().max(1),
            signatures: signatures.iter().filter(|s| s.kind == "signature").count(),
            document_timestamps: signatures
                .iter()
                .filter(|s| s.kind == "document_timestamp")
                .count(),
        },
        signatures,
        indication,
        validation_time: ctx.now.to_rfc3339(),
        warnings,
    })
}

/// Where the bytes a signature covers end (`/ByteRange`'s last range); 0 when unreadable.
fn signed_end(sig: &Dictionary) -> i64 {
    let range: Vec<i64> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_i64().ok()).collect())
        .unwrap_or_default();
    match range[..] {
        [_, _, start, len] => start.saturating_add(len),
        _ => 0,
    }
}

/// The time a valid document timestamp proves.
fn proven_time(report: &SignatureReport) -> Option<DateTime<Utc>> {
    if report.kind != "document_timestamp" || report.indication != Indication::TotalPassed {
        return None;
    }
    let time = &report.timestamp.as_ref()?.time;
    DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The file's SHA-256, read window by window (`pages`), and the hash's state after the first
/// `cut` bytes for each of `cuts`.
fn document_digest(pdf: &[u8], cuts: &BTreeSet<usize>) -> ([u8; 32], HashMap<usize, Sha256>) {
    let mut hasher = Sha256::new();
    let mut heads = HashMap::new();
    let mut cuts = cuts.iter().copied().peekable();
    let mut at = 0;
    for window in crate::pdf::pages::windows(pdf) {
        let end = at + window.len();
        let mut from = 0;
        while let Some(cut) = cuts.next_if(|&cut| cut <= end) {
            hasher.update(&window[from..cut - at]);
            from = cut - at;
            heads.insert(cut, hasher.clone());
        }
        hasher.update(&window[from..]);
        at = end;
    }
    (hasher.finish(), heads)
}

/// A signature dictionary's /ByteRange as numbers (empty when there is none).
fn byte_range(sig: &Dictionary) -> Vec<i64> {
    sig.get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_i64().ok()).collect())
        .unwrap_or_default()
}

/// Two signatures over the same revision: at most one of them can be what was signed.
fn flag_shared_revisions(signatures: &mut [SignatureReport]) {
    let revisions: Vec<Option<usize>> = signatures.iter().map(|s| s.coverage.revision).collect();
    for (i, sig) in signatures.iter_mut().enumerate() {
        let shared = sig.coverage.revision.is_some()
            && revisions
                .iter()
                .enumerate()
                .any(|(j, r)| j != i && *r == sig.coverage.revision);
        if shared {
            sig.problems
                .push("another signature claims the same bytes".into());
            fail(sig, Indication::TotalFailed, SubIndication::FormatFailure);
        }
    }
}

/// B-LT with a later document timestamp is B-LTA.
fn mark_archival(signatures: &mut [SignatureReport]) {
    let last_doc_ts = signatures
        .iter()
        .filter(|s| s.kind == "document_timestamp" && s.indication == Indication::TotalPassed)
        .filter_map(|s| s.coverage.revision)
        .max();
    for sig in signatures.iter_mut() {
        if sig.level == Some("B-LT")
            && last_doc_ts.is_some_and(|ts| sig.coverage.revision.is_some_and(|r| r < ts))
        {
            sig.level = Some("B-LTA");
        }
    }
}

/// SHA-1 still verifies, but collisions can be found (ETSI TS 119 312 no longer lists it for
/// signatures): the signature stays intact, and the report says its evidence is weak.
fn note_weak(report: &mut SignatureReport, what: &str, digests: &[&Digest]) {
    for digest in digests.iter().filter(|d| d.weak) {
        let problem = format!(
            "{what} relies on {}, which is weak (collisions can be found)",
            digest.name
        );
        if !report.problems.contains(&problem) {
            report.problems.push(problem);
        }
    }
}

fn fail(sig: &mut SignatureReport, indication: Indication, sub: SubIndication) {
    if indication >= sig.indication {
        sig.indication = indication;
        sig.sub_indication = Some(sub);
        sig.explanation = explain::signature(sig);
    }
}

/// Refuses a file whose signatures together cover more bytes than one verification may hash
/// (5 000 /DocTimeStamp dictionaries over a 10 MB file would hash 50 GB); counted from their
/// /ByteRange before anything is hashed.
fn check_hashed_bytes(pdf_len: usize, fields: &[Signed<'_>], limits: &Limits) -> Result<()> {
    let hashed: u64 = fields
        .iter()
        .filter_map(|sig| {
            let (ranges, _) = structure::byte_ranges(pdf_len, &byte_range(sig.dict))?;
            Some(ranges.iter().map(|r| r.len() as u64).sum::<u64>())
        })
        .sum();
    if hashed > limits.max_hashed_bytes {
        return Err(Error::PdfTooComplex(format!(
            "the signatures cover {} MiB together, more than the {} MiB one verification may hash",
            hashed >> 20,
            limits.max_hashed_bytes >> 20
        )));
    }
    Ok(())
}

/// Most signatures verified in one file; each costs a change analysis over the revisions.
const MAX_SIGNATURES: usize = 100;
/// Most form fields read while looking for signatures (a binary tree of fields stays cheap).
const MAX_FIELDS: usize = 10_000;

/// A signature dictionary and the field that holds it.
struct Signed<'a> {
    /// Fully qualified field name, or `(12 0 R)` for a signature no field holds.
    name: String,
    field: Option<&'a Dictionary>,
    id: ObjectId,
    dict: &'a Dictionary,
}

/// The signatures held by the form's fields, depth-first. A field is read once even when
/// listed twice (or as its own kid); its kids without /T are its widgets.
fn signature_fields(doc: &Document) -> Vec<Signed<'_>> {
    let mut out = Vec::new();
    let fields = doc
        .catalog()
        .and_then(|root| root.get(b"AcroForm"))
        .and_then(|form| doc.dereference(form))
        .and_then(|(_, form)| form.as_dict())
        .and_then(|form| form.get(b"Fields"));
    if let Ok(fields) = fields {
        walk_fields(doc, fields, "", None, &mut out, &mut BTreeSet::new(), 0);
    }
    out
}

fn walk_fields<'a>(
    doc: &'a Document,
    fields: &'a Object,
    prefix: &str,
    inherited_type: Option<&'a [u8]>,
    out: &mut Vec<Signed<'a>>,
    seen: &mut BTreeSet<ObjectId>,
    depth: usize,
) {
    let Ok((_, Object::Array(items))) = doc.dereference(fields) else {
        return;
    };
    if depth > 32 {
        return; // absurd form trees
    }
    for item in items {
        let Ok(id) = item.as_reference() else {
            continue;
        };
        if seen.len() >= MAX_FIELDS || !seen.insert(id) {
            continue;
        }
        let Ok(field) = doc.get_dictionary(id) else {
            continue;
        };
        let name = match field.get(b"T") {
            Ok(t @ Object::String(..)) => {
                let t = lopdf::decode_text_string(t).unwrap_or_default();
                if prefix.is_empty() {
                    t
                } else {
                    format!("{prefix}.{t}")
                }
            }
            _ => prefix.to_owned(),
        };
        // /FT and /V are inheritable (ISO 32000-2 §12.7.4.1, Table 226).
        let kind = field
            .get(b"FT")
            .and_then(Object::as_name)
            .ok()
            .or(inherited_type);
        if kind == Some(b"Sig") && field.has(b"T") {
            if let Ok(Object::Reference(v)) = field.get(b"V") {
                if let Ok(sig) = doc.get_dictionary(*v) {
                    out.push(Signed {
                        name: name.clone(),
                        field: Some(field),
                        id: *v,
                        dict: sig,
                    });
                }
            }
        }
        if let Ok(kids) = field.get(b"Kids") {
            walk_fields(doc, kids, &name, kind, out, seen, depth + 1);
        }
    }
}

/// Signature dictionaries that no field of the form holds (a "sneaky" signature or a field
/// removed from the form): reported too, so nothing signed goes unmentioned.
fn orphan_signatures<'a>(doc: &'a Document, fields: &[Signed<'a>]) -> Vec<Signed<'a>> {
    doc.objects
        .iter()
        .filter(|(id, _)| !fields.iter().any(|f| f.id == **id))
        .filter_map(|(id, object)| {
            let dict = object.as_dict().ok()?;
            let ty = dict.get(b"Type").and_then(Object::as_name).ok()?;
            (matches!(ty, b"Sig" | b"DocTimeStamp") && dict.has(b"ByteRange")).then(|| Signed {
                name: format!("({} {} R)", id.0, id.1),
                field: None,
                id: *id,
                dict,
            })
        })
        .collect()
}

/// Validation data embedded in the document (ISO 32000-2 §12.8.4.3, the DSS).
#[derive(Default)]
struct Dss {
    present: bool,
    certificates: Vec<Certificate>,
    crls: Vec<X509Crl>,
    /// DER OCSPResponses, checked against each certificate's issuer when used.
    ocsps: Vec<Vec<u8>>,
}

impl Dss {
    /// Reads each stream once (by object number) and at most `limit` bytes in all (issue 9:
    /// 2 000 references to one large stream must not inflate it 2 000 times).
    /// Past `deadline` it stops reading (the caller checks it).
    fn load(pdf: &[u8], doc: &Document, limit: u64, deadline: &Deadline) -> Dss {
        let Some(dss) = doc
            .catalog()
            .ok()
            .and_then(|c| c.get(b"DSS").ok())
            .and_then(|d| doc.dereference(d).ok())
            .and_then(|(_, d)| d.as_dict().ok())
        else {
            return Dss::default();
        };
        let mut seen = std::collections::HashSet::new();
        let mut left = limit;
        let mut streams = |key: &[u8]| -> Vec<Vec<u8>> {
            let items = dss
                .get(key)
                .and_then(|a| doc.dereference(a))
                .and_then(|(_, a)| a.as_array())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut out = Vec::new();
            for item in items {
                let Ok((Some(id), Object::Stream(s))) = doc.dereference(item) else {
                    continue;
                };
                if !seen.insert(id) {
                    continue;
                }
                if deadline.passed() {
                    break;
                }
                // Validation data is small: a bigger stream is not a certificate or CRL.
                let raw = read::stream_data(pdf, s);
                let data = match s.dict.get(b"Filter").and_then(Object::as_name) {
                    Ok(b"FlateDecode") => structure::inflate(raw, left.min(1 << 20)),
                    _ => Some(raw.to_vec()),
                };
                if let Some(data) = data {
                    left = left.saturating_sub(data.len() as u64);
                    out.push(data);
                }
                if left == 0 {
                    break;
                }
            }
            out
        };
        let certificates = streams(b"Certs");
        let crls = streams(b"CRLs");
        let ocsps = streams(b"OCSPs");
        Dss {
            ocsps,
            present: true,
            certificates: certificates
                .iter()
                .take_while(|_| !deadline.passed())
                .filter_map(|d| Certificate::from_der(d).ok())
                .collect(),
            crls: crls
                .iter()
                .take_while(|_| !deadline.passed())
                .filter_map(|d| X509Crl::from_der(d).ok())
                .collect(),
        }
    }
}

/// Most revisions a change analysis reads (each is parsed once).
const MAX_REVISIONS: usize = 100;
/// Most work all change analyses of one file may do, in objects × revisions judged: far above
/// real files (50 000 objects, 10 signatures: 5 million), it bounds a hostile one.
const MAX_ANALYSIS_WORK: usize = 50_000_000;

/// The document as of each revision, parsed once and shared by all signatures.
struct History<'a> {
    bytes: &'a [u8],
    blanked: &'a [Range<usize>],
    ends: &'a [usize],
    last: &'a Document,
    limits: &'a Limits,
    /// The final file's cross-reference data had to be repaired.
    repaired: bool,
    parsed: Vec<OnceCell<Option<read::Parsed>>>,
    work: Cell<usize>,
    deadline: Deadline,
}

impl<'a> History<'a> {
    fn new(
        bytes: &'a [u8],
        blanked: &'a [Range<usize>],
        ends: &'a [usize],
        last: &'a Document,
        limits: &'a Limits,
        repaired: bool,
        deadline: Deadline,
    ) -> Self {
        History {
            bytes,
            blanked,
            ends,
            last,
            limits,
            repaired,
            parsed: ends.iter().map(|_| OnceCell::new()).collect(),
            work: Cell::new(0),
            deadline,
        }
    }

    /// The documents from revision `from` (0-based) to the last one; revisions that cannot
    /// be read on their own (a `%%EOF` inside a stream) are skipped.
    fn from(&self, from: usize) -> std::result::Result<Vec<&Document>, String> {
        let later = self.ends.len().saturating_sub(from);
        if later > MAX_REVISIONS {
            return Err(format!("more than {MAX_REVISIONS} revisions after signing"));
        }
        let work = self.work.get() + later * self.last.objects.len();
        if work > MAX_ANALYSIS_WORK {
            return Err("too many revisions and objects to analyse the changes".into());
        }
        self.work.set(work);
        let mut out = Vec::new();
        for (i, &end) in self.ends.iter().enumerate().skip(from) {
            if end >= self.bytes.len() || i + 1 == self.ends.len() {
                break;
            }
            // `verify` turns this into `pdf_too_complex` once the signature is done.
            self.deadline.every(0)?;
            match self.revision(i) {
                Some(parsed) => out.push(&parsed.doc),
                None if i == from => return Err("the signed revision cannot be read".into()),
                None => {}
            }
        }
        out.push(self.last);
        Ok(out)
    }

    /// Revision `i` (0-based) read on its own, once.
    fn revision(&self, i: usize) -> Option<&read::Parsed> {
        let end = *self.ends.get(i)?;
        self.parsed
            .get(i)?
            .get_or_init(|| {
                let blanked = &self.blanked[..self.blanked.partition_point(|v| v.end <= end)];
                let bytes = self.bytes.get(..end)?;
                read::parse_blanked(bytes, self.limits, blanked, self.deadline).ok()
            })
            .as_ref()
    }

    /// The final file needed a repair that revision `i` did not: damage added after it.
    fn repaired_since(&self, i: usize) -> bool {
        self.repaired && self.revision(i).is_some_and(|r| !r.repaired)
    }
}

/// What a signature permits after it: its DocMDP (as the certification signature of
/// /Perms, or its field lock's /P, ISO 32000-2 Table 236) and the fields it locks (its
/// FieldMDP reference, else its field's /Lock).
fn policy(doc: &Document, signed: &Signed) -> changes::Policy {
    fn dict_of<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Dictionary> {
        doc.dereference(o).ok().and_then(|(_, o)| o.as_dict().ok())
    }
    let resolve_dict = |o| dict_of(doc, o);
    let transform = |method: &[u8]| {
        signed
            .dict
            .get(b"Reference")
            .ok()
            .and_then(|r| doc.dereference(r).ok())
            .and_then(|(_, r)| r.as_array().ok())
            .into_iter()
            .flatten()
            .filter_map(resolve_dict)
            .find(|r| r.get(b"TransformMethod").and_then(Object::as_name).ok() == Some(method))
            .map(|r| r.get(b"TransformParams").ok().and_then(resolve_dict))
    };
    let certifies = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Perms").ok())
        .and_then(resolve_dict)
        .and_then(|p| p.get(b"DocMDP").ok())
        .and_then(|s| s.as_reference().ok())
        == Some(signed.id);
    let lock = signed
        .field
        .and_then(|f| f.get(b"Lock").ok())
        .and_then(resolve_dict);
    let p = |d: Option<&Dictionary>| d.and_then(|d| d.get(b"P").and_then(Object::as_i64).ok());
    let doc_mdp = match transform(b"DocMDP") {
        Some(params) => Some(changes::DocMdp::from_p(p(params).unwrap_or(2))),
        None if certifies => Some(changes::DocMdp::FormFilling),
        None => p(lock).map(changes::DocMdp::from_p),
    };
    let lock_params = transform(b"FieldMDP").flatten().or(lock);
    let names = |d: &Dictionary| -> Vec<String> {
        d.get(b"Fields")
            .ok()
            .and_then(|f| doc.dereference(f).ok())
            .and_then(|(_, f)| f.as_array().ok())
            .into_iter()
            .flatten()
            .filter_map(|n| lopdf::decode_text_string(n).ok())
            .collect()
    };
    let lock = match lock_params {
        None => changes::FieldLock::Nothing,
        Some(d) => match d.get(b"Action").and_then(Object::as_name).ok() {
            Some(b"All") => changes::FieldLock::All,
            Some(b"Include") => changes::FieldLock::Include(names(d)),
            Some(b"Exclude") => changes::FieldLock::Exclude(names(d)),
            _ => changes::FieldLock::Nothing,
        },
    };
    changes::Policy { doc_mdp, lock }
}

struct Validation<'a> {
    pdf: &'a [u8],
    /// The document digest's state after the first bytes of the file, by their count.
    heads: &'a HashMap<usize, Sha256>,
    /// The signature values read as empty strings (`read::signature_values`).
    blanked: &'a [Range<usize>],
    doc: &'a Document,
    ctx: &'a Context<'a>,
    revisions: &'a [usize],
    dss: &'a Dss,
    history: &'a History<'a>,
    /// The document timestamps found valid so far (all later ones, for a signature).
    proofs: &'a Proofs,
}

impl Validation<'_> {
    fn run(&self, signed: &Signed) -> SignatureReport {
        let (field, sig) = (signed.name.as_str(), signed.dict);
        let name = |key: &[u8]| {
            sig.get(key)
                .and_then(Object::as_name)
                .ok()
                .map(|n| String::from_utf8_lossy(n).into_owned())
        };
        let kind = if name(b"Type").as_deref() == Some("DocTimeStamp") {
            "document_timestamp"
        } else {
            "signature"
        };
        let mut report = SignatureReport {
            field: field.to_owned(),
            kind,
            sub_filter: name(b"SubFilter"),
            level: None,
            signer: None,
            claimed_signing_time: sig
                .get(b"M")
                .and_then(Object::as_str)
                .ok()
                .map(|m| String::from_utf8_lossy(m).into_owned()),
            timestamp: None,
            validated_at: None,
            checks: Checks::default(),
            coverage: Coverage::default(),
            indication: Indication::TotalPassed,
            sub_indication: None,
            explanation: Explanation {
                vi: String::new(),
                en: String::new(),
            },
            problems: Vec::new(),
        };
        if let Err((sub, problem)) = self.check(signed, &mut report) {
            report.problems.push(problem);
            let indication = match sub {
                SubIndication::FormatFailure
                | SubIndication::HashFailure
                | SubIndication::SigCryptoFailure
                | SubIndication::Revoked
                | SubIndication::Expired
                | SubIndication::NotYetValid => Indication::TotalFailed,
                _ => Indication::Indeterminate,
            };
            report.indication = indication;
            report.sub_indication = Some(sub);
        }
        report.explanation = explain::signature(&report);
        report
    }

    /// Runs the checks in order; the first failure decides the indication.
    fn check(
        &self,
        signed: &Signed,
        report: &mut SignatureReport,
    ) -> std::result::Result<(), (SubIndication, String)> {
        use SubIndication::*;
        let (id, sig) = (signed.id, signed.dict);
        let format = |msg: &str| (FormatFailure, msg.to_owned());

        // 1. Structure: the byte ranges, the gap and the revision they close.
        let byte_range = byte_range(sig);
        let Ok(Object::String(parsed_contents, _)) = sig.get(b"Contents") else {
            report.checks.byte_range = Some(false);
            return Err(format("/Contents is missing"));
        };
        let Some((ranges, gap)) = structure::byte_ranges(self.pdf.len(), &byte_range) else {
            report.checks.byte_range = Some(false);
            return Err(format(
                "/ByteRange is missing, malformed or outside the file",
            ));
        };
        report.coverage.whole_file = ranges[1].end == self.pdf.len();
        report.coverage.revision = self
            .revisions
            .iter()
            .position(|&end| end == ranges[1].end)
            .map(|i| i + 1);
        let contents = self.gap_contents(id, &gap, parsed_contents);
        let gap_ok = contents.is_some();
        report.checks.byte_range = Some(gap_ok && report.coverage.revision.is_some());
        let Some(contents) = contents else {
            return Err(format(
                "the bytes left out of /ByteRange are not this signature's own /Contents",
            ));
        };
        if contents.iter().all(|&b| b == 0) {
            return Err(format("/Contents is empty"));
        }
        if report.coverage.revision.is_none() {
            return Err(format(
                "the signed bytes do not end at the end of a revision (%%EOF)",
            ));
        }

        // 2. Cryptography.
        if report.kind == "document_timestamp" {
            let ts = cms::check_timestamp(&contents, &ranges.clone().map(|r| &self.pdf[r]))
                .map_err(|e| {
                    report.checks.digest = Some(false);
                    (HashFailure, e)
                })?;
            report.checks.digest = Some(true);
            report.checks.signature = Some(true);
            note_weak(report, "the timestamp", &ts.digests);
            report.signer = cms::describe(&ts.tsa);
            report.timestamp = Some(TimestampInfo {
                time: ts.time.to_rfc3339(),
                authority: report.signer.as_ref().map(|s| s.subject.clone()),
                valid: true,
            });
            self.check_changes(signed, report)?;
            self.token_in_time(&ts).map_err(|e| (FormatFailure, e))?;
            // Its own time proves nothing about itself: a later document timestamp does.
            let poe = self.proofs.covering(report.coverage.revision);
            return self.check_chain(
                report,
                &ts.tsa,
                (&ts.certificates, &ts.revocation),
                poe.as_ref(),
                None,
            );
        }
        let cms = cms::parse(&contents).map_err(|e| (FormatFailure, e))?;
        report.signer = cms.signer.as_ref().and_then(cms::describe);
        let Some(signer) = cms.signer.clone() else {
            return Err((
                NoSigningCertificateFound,
                "the signer's certificate is not in the signature".into(),
            ));
        };
        let head = (ranges[0].start == 0)
            .then(|| self.heads.get(&ranges[0].end))
            .flatten();
        let digests = cms::check_integrity(
            &cms,
            report.sub_filter.as_deref(),
            &ranges.clone().map(|r| &self.pdf[r]),
            head,
            &mut report.checks,
        )?;
        note_weak(report, "the signature", &digests);

        // 3. The signature timestamp: proof that the signature existed at that time, itself
        // judged at the time a later document timestamp proves it existed, if any.
        let covering = self.proofs.covering(report.coverage.revision);
        let stamped = cms.timestamp_token().map(|token| {
            let checked = cms::check_timestamp(&token, &[cms.signer_info.signature.as_bytes()])
                .and_then(|ts| {
                    self.token_in_time(&ts)?;
                    self.judge(
                        &ts.tsa,
                        (&ts.certificates, &ts.revocation),
                        covering.as_ref(),
                        None,
                    )
                    .map(|_| ts)
                    .map_err(|r| format!("TSA: {}", r.problem))
                });
            match checked {
                Ok(ts) => {
                    note_weak(report, "the signature timestamp", &ts.digests);
                    report.timestamp = Some(TimestampInfo {
                        time: ts.time.to_rfc3339(),
                        authority: cms::describe(&ts.tsa).map(|c| c.subject),
                        valid: true,
                    });
                    Some(Poe {
                        time: ts.time,
                        source: poe::Source::SignatureTimestamp,
                        field: None,
                    })
                }
                Err(e) => {
                    report
                        .problems
                        .push(format!("signature timestamp not usable: {e}"));
                    report.timestamp = Some(TimestampInfo {
                        time: String::new(),
                        authority: None,
                        valid: false,
                    });
                    None
                }
            }
        });
        let stamped = stamped.flatten();
        let timestamped = stamped.is_some();
        let poe = Poe::earliest(stamped, covering);
        report.level = match report.sub_filter.as_deref() {
            Some("ETSI.CAdES.detached") if cms.has_signing_certificate_v2() => {
                Some(match (timestamped, self.dss.present) {
                    (true, true) => "B-LT",
                    (true, false) => "B-T",
                    (false, _) => "B-B",
                })
            }
            _ => None,
        };

        // 4. What happened after signing.
        self.check_changes(signed, report)?;

        // 5. Key usage: a signing certificate must allow signatures.
        let usage = report.signer.as_ref().map(|s| &s.key_usage);
        let usage_ok = usage.is_none_or(|ku| {
            ku.is_empty()
                || ku
                    .iter()
                    .any(|k| k == "digitalSignature" || k == "nonRepudiation")
        });
        report.checks.key_usage = Some(usage_ok);

        // 6. Trust and time.
        let claimed = report
            .claimed_signing_time
            .as_deref()
            .and_then(parse_pdf_date);
        self.check_chain(
            report,
            &signer,
            (&cms.certificates, &cms.revocation),
            poe.as_ref(),
            claimed,
        )?;
        if !usage_ok {
            return Err((
                SigConstraintsFailure,
                "the certificate's key usage does not allow signing".into(),
            ));
        }
        Ok(())
    }

    /// A timestamp made within its authority's validity, and not after the validation time
    /// (a token from after it proves nothing at it).
    fn token_in_time(&self, ts: &cms::Timestamp) -> std::result::Result<(), String> {
        if !within_validity(ts.tsa.x509(), ts.time) {
            return Err(
                "the timestamp's time is outside its authority's certificate validity".into(),
            );
        }
        if ts.time > self.ctx.now {
            return Err(format!(
                "the timestamp ({}) is later than the validation time",
                ts.time.to_rfc3339()
            ));
        }
        Ok(())
    }

    /// The signature value, when the gap is exactly the `/Contents` hex string inside this
    /// signature's own object: the parsed value is either that string or, when it was blanked
    /// for parsing, blanked at exactly this place.
    fn gap_contents(&self, id: ObjectId, gap: &Range<usize>, parsed: &[u8]) -> Option<Vec<u8>> {
        let bytes = &self.pdf[gap.clone()];
        if bytes.first() != Some(&b'<') || bytes.last() != Some(&b'>') {
            return None;
        }
        let digits: Vec<u8> = bytes[1..bytes.len() - 1]
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .copied()
            .collect();
        let decoded = hex::decode(digits).ok()?;
        let is_this_value = if parsed.is_empty() {
            self.blanked.iter().any(|value| value.start == gap.start)
        } else {
            decoded == parsed
        };
        let inside_object = match self.doc.reference_table.get(id.0) {
            Some(lopdf::xref::XrefEntry::Normal { offset, .. }) => {
                let start = *offset as usize;
                start < gap.start
                    && self
                        .pdf
                        .get(gap.end..)
                        .and_then(|rest| structure::find(rest, b"endobj"))
                        .is_some_and(|end| {
                            // No other object starts between the signature's object and the gap.
                            structure::find(&self.pdf[start..gap.start], b"endobj").is_none()
                                && end < 64 * 1024
                        })
            }
            _ => false,
        };
        (is_this_value && inside_object).then_some(decoded)
    }

    fn check_changes(
        &self,
        signed: &Signed,
        report: &mut SignatureReport,
    ) -> std::result::Result<(), (SubIndication, String)> {
        let Some(revision) = report.coverage.revision else {
            return Ok(());
        };
        if report.coverage.whole_file {
            return Ok(());
        }
        let documents = self
            .history
            .from(revision - 1)
            .map_err(|e| (SubIndication::FormatFailure, e))?;
        let analysis = changes::analyse(
            self.pdf,
            &documents,
            0,
            &policy(self.doc, signed),
            &self.history.deadline,
        )
        .map_err(|e| (SubIndication::FormatFailure, e))?;
        // Revision numbers as the report counts them.
        report.coverage.later_changes = analysis
            .changes
            .into_iter()
            .map(|c| Change {
                revision: c.revision + revision - 1,
                ..c
            })
            .collect();
        report.coverage.modification_level = analysis.level;
        if self.history.repaired_since(revision - 1) {
            // Damage added by an update (an entry pointing at another object) makes readers
            // disagree on what the document is: the incremental saving attacks' trick.
            report.coverage.later_changes.push(Change {
                object: "xref".into(),
                what: "cross-reference data damaged after signing".into(),
                kind: "xref".into(),
                action: Action::Finding,
                revision: self.revisions.len(),
                level: ModificationLevel::Other,
                allowed: false,
                rule: changes::text::XREF_DAMAGED,
            });
            report.coverage.modification_level = ModificationLevel::Other;
        }
        let disallowed: Vec<&Change> = report
            .coverage
            .later_changes
            .iter()
            .filter(|c| !c.allowed)
            .collect();
        if let Some(first) = disallowed.first() {
            return Err((
                SubIndication::FormatFailure,
                format!(
                    "{} disallowed change(s) after signing, e.g. {} ({}): {}",
                    disallowed.len(),
                    first.object,
                    first.what,
                    first.rule.en
                ),
            ));
        }
        Ok(())
    }

    /// The certificate's chain and revocation, judged into the report.
    fn check_chain(
        &self,
        report: &mut SignatureReport,
        cert: &Certificate,
        carried: (&[Certificate], &Carried),
        poe: Option<&Poe>,
        claimed: Option<DateTime<Utc>>,
    ) -> std::result::Result<(), (SubIndication, String)> {
        let judged = self.judge(cert, carried, poe, claimed);
        let (verdict, past) = match judged {
            Ok(j) => {
                report.checks.chain = Some(true);
                report.checks.chain_detail = Some(j.chain_detail);
                report.checks.revocation = Some(j.revocation);
                report.problems.extend(j.notes);
                (Ok(()), j.past)
            }
            Err(r) => {
                report.checks.chain = r.chain;
                report.checks.chain_detail = r.chain_detail;
                report.checks.revocation = r.revocation;
                (Err((r.sub, r.problem)), r.past)
            }
        };
        report.validated_at = Some(poe::validated_at(self.ctx.now, poe, past));
        verdict
    }

    /// Chain and revocation of `cert` for an object whose earliest proof of existence is
    /// `poe`: at the validation time when the certificate is valid then, else at the time
    /// the proof gives (past signature validation), where the revocation data held must show
    /// it was not revoked. `carried` is what the object's CMS holds: certificates and
    /// revocation data.
    fn judge(
        &self,
        cert: &Certificate,
        (certificates, carried): (&[Certificate], &Carried),
        poe: Option<&Poe>,
        claimed: Option<DateTime<Utc>>,
    ) -> std::result::Result<Judgement, Rejection> {
        use SubIndication::*;
        // Certificates that may complete the chain: the signature's own and the DSS's (the
        // operator's intermediates are the trust store's). AIA caIssuers, when fetched, join
        // them here.
        let mut helpers = certificates.to_vec();
        helpers.extend(self.dss.certificates.iter().cloned());
        let trust = self.ctx.trust;
        let at = self.ctx.now;
        let mut now = trust.chain(cert, &helpers, at);
        if matches!(now, Err(ChainError::Untrusted(_))) && self.ctx.live() {
            // AIA caIssuers, a few levels up (a chain longer than that is not a real one), a
            // few certificates a level: the certificate is anyone's until it chains.
            let mut last = vec![cert.clone()];
            for _ in 0..3 {
                last = last
                    .iter()
                    .flat_map(|c| self.ctx.revocation.ca_issuers(c))
                    .take(4)
                    .collect();
                if last.is_empty() {
                    break;
                }
                helpers.extend(last.iter().cloned());
            }
            now = trust.chain(cert, &helpers, at);
        }
        // A claimed time outside the certificate's validity is the signer's own admission.
        if let (Some(claimed), None, Err(ChainError::Expired | ChainError::NotYetValid)) =
            (claimed, poe, &now)
        {
            match trust.chain(cert, &helpers, claimed) {
                Err(ChainError::Expired) => {
                    return Err(Rejection::new(
                        Expired,
                        "the certificate had expired at the claimed signing time".into(),
                    ))
                }
                Err(ChainError::NotYetValid) => {
                    return Err(Rejection::new(
                        NotYetValid,
                        "the certificate was not yet valid at the claimed signing time".into(),
                    ))
                }
                _ => {}
            }
        }
        let broken = |sub, problem: String, detail: String| Rejection {
            chain: Some(false),
            chain_detail: Some(detail),
            ..Rejection::new(sub, problem)
        };
        let (chain, past) = match now {
            Ok(chain) => (chain, false),
            Err(ChainError::Expired | ChainError::NotYetValid) => match poe {
                Some(poe) => match trust.chain(cert, &helpers, poe.time) {
                    Ok(chain) => (chain, true),
                    Err(e) => {
                        return Err(Rejection {
                            past: true,
                            ..broken(
                                OutOfBoundsNoPoe,
                                format!(
                                    "the certificate was not valid at {} either, when the {} proves the signature existed: {e:?}",
                                    poe.time.to_rfc3339(),
                                    poe.source.as_str().replace('_', " ")
                                ),
                                format!("not valid at the validation time, nor at {}", poe.time.to_rfc3339()),
                            )
                        })
                    }
                },
                None => {
                    return Err(broken(
                        OutOfBoundsNoPoe,
                        "the certificate has expired and no timestamp proves when it signed".into(),
                        "expired at the validation time, and no timestamp proves the signature is older".into(),
                    ))
                }
            },
            Err(ChainError::Untrusted(why)) => {
                return Err(broken(
                    NoCertificateChainFound,
                    format!("no chain to a trusted root: {why}"),
                    why,
                ))
            }
            Err(ChainError::Invalid(why)) => {
                return Err(broken(
                    CertificateChainGeneralFailure,
                    format!("the certificate chain is invalid: {why}"),
                    why,
                ))
            }
        };
        let chain_detail = chain
            .iter()
            .map(|c| {
                cms::describe(c)
                    .and_then(|d| d.common_name)
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" → ");

        // Revocation, from the CRLs and OCSP answers kyso holds, the document's DSS holds or
        // (validating now) the certificate's URLs give, made by the issuer, as of the proof of
        // existence when there is one.
        let time = poe.map_or(at, |p| p.time);
        let status = chain.get(1).map_or(Status::Unknown, |issuer| {
            self.revocation_status(cert, issuer, time, carried)
        });
        let revocation = match status {
            Status::Good => "good".to_owned(),
            Status::Revoked(t) => format!("revoked {}", t.to_rfc3339()),
            Status::Unknown => format!(
                "unknown: no revocation data of this issuer for {}",
                time.to_rfc3339()
            ),
        };
        let mut notes = Vec::new();
        let revoked = |sub, problem: String| Rejection {
            chain: Some(true),
            chain_detail: Some(chain_detail.clone()),
            revocation: Some(revocation.clone()),
            past,
            ..Rejection::new(sub, problem)
        };
        match status {
            Status::Revoked(r) if poe.is_some_and(|p| p.time < r) => notes.push(format!(
                "revoked on {}, after the timestamp proves the signature existed: the signature stays valid",
                r.to_rfc3339()
            )),
            Status::Revoked(r) if claimed.is_some_and(|c| c >= r) => {
                return Err(revoked(
                    Revoked,
                    format!(
                        "the certificate was revoked on {}, before signing",
                        r.to_rfc3339()
                    ),
                ))
            }
            Status::Revoked(_) => {
                return Err(revoked(
                    RevokedNoPoe,
                    "the certificate is revoked and no timestamp proves the signature is older"
                        .into(),
                ))
            }
            Status::Unknown if past => {
                return Err(revoked(
                    OutOfBoundsNoPoe,
                    format!(
                        "the certificate has expired, and no revocation data in the file or held by kyso shows it was not revoked at {}",
                        time.to_rfc3339()
                    ),
                ))
            }
            Status::Good | Status::Unknown => {}
        }
        Ok(Judgement {
            chain_detail,
            revocation,
            notes,
            past,
        })
    }
}

impl Validation<'_> {
    fn revocation_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        time: DateTime<Utc>,
        carried: &Carried,
    ) -> Status {
        let revocation = self.ctx.revocation;
        let key = issuer.x509().public_key().ok();
        // By name first: checking a signature is an RSA operation, and lists of other issuers
        // would fail it anyway.
        let name = cert.x509().issuer_name().to_der().ok();
        let mut statements: Vec<Statement> = revocation
            .files
            .all()
            .iter()
            .chain(&self.dss.crls)
            .chain(&carried.crls)
            .filter(|crl| crl.issuer_name().to_der().ok() == name)
            .filter(|crl| key.as_ref().is_some_and(|k| crl.verify(k).unwrap_or(false)))
            .map(|crl| Statement::from_crl(crl, cert))
            .collect();
        statements.extend(
            self.dss
                .ocsps
                .iter()
                .chain(&carried.ocsps)
                .filter_map(|der| ocsp::check(der, cert, issuer, None).ok()),
        );
        let held = poe::status(cert, &statements, time);
        if held != Status::Unknown || !self.ctx.live() {
            return held;
        }
        match revocation.ocsp(cert, issuer, self.ctx.now) {
            Some((_, statement)) => statements.push(statement),
            None => statements.extend(
                revocation
                    .fetched_crls(cert, issuer, self.ctx.now)
                    .iter()
                    .map(|crl| Statement::from_crl(crl, cert)),
            ),
        }
        poe::status(cert, &statements, time)
    }
}

/// A certificate found valid for an object.
struct Judgement {
    chain_detail: String,
    revocation: String,
    notes: Vec<String>,
    /// Judged at a proof of existence, not at the validation time.
    past: bool,
}

/// Why a certificate is not valid for an object, with what was checked until then.
struct Rejection {
    sub: SubIndication,
    problem: String,
    chain: Option<bool>,
    chain_detail: Option<String>,
    revocation: Option<String>,
    past: bool,
}

impl Rejection {
    fn new(sub: SubIndication, problem: String) -> Self {
        Rejection {
            sub,
            problem,
            chain: None,
            chain_detail: None,
            revocation: None,
            past: false,
        }
    }
}

/// Whether `time` lies within `cert`'s validity: a timestamp outside its authority's
/// certificate validity is not one.
fn within_validity(cert: &X509, time: DateTime<Utc>) -> bool {
    let bound = |t| crate::pki::revocation::to_utc(t);
    bound(cert.not_before()).is_some_and(|from| from <= time)
        && bound(cert.not_after()).is_some_and(|until| time <= until)
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (ISO 32000-1 §7.9.4), with the optional parts PDF allows.
pub fn parse_pdf_date(text: &str) -> Option<DateTime<Utc>> {
    let s = text.strip_prefix("D:").unwrap_or(text);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let field = |from: usize, len: usize, default: u32| -> Option<u32> {
        digits
            .get(from..from + len)
            .map_or(Some(default), |d| d.parse().ok())
    };
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(field(0, 4, 0)?).ok()?,
        field(4, 2, 1)?,
        field(6, 2, 1)?,
    )?;
    let local = date.and_hms_opt(field(8, 2, 0)?, field(10, 2, 0)?, field(12, 2, 0)?)?;
    let rest = &s[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let tz: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = tz.get(0..2)?.parse().ok()?;
            let minutes: i32 = tz.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let secs = hours * 3600 + minutes * 60;
            if sign == '-' {
                -secs
            } else {
                secs
            }
        }
        _ => 0,
    };
    Some(DateTime::from_naive_utc_and_offset(
        local - chrono::Duration::seconds(i64::from(offset)),
        Utc,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The states kept on the way are those of the file's first bytes hashed alone, at cuts
    /// inside a window, at its edges, at the start and at the end.
    #[test]
    fn the_document_digest_keeps_the_states_at_the_cuts() {
        let window = crate::pdf::pages::WINDOW;
        let pdf: Vec<u8> = (0..2 * window + 1000).map(|i| (i % 251) as u8).collect();
        let cuts: BTreeSet<usize> = [0, 17, window, window + 1, 2 * window + 999, pdf.len()].into();
        let (digest, heads) = document_digest(&pdf, &cuts);
        assert_eq!(digest, openssl::sha::sha256(&pdf));
        assert_eq!(heads.len(), cuts.len());
        for cut in cuts {
            let state = heads[&cut].clone().finish();
            assert_eq!(state, openssl::sha::sha256(&pdf[..cut]), "cut {cut}");
        }
    }

    #[test]
    fn a_field_listed_twice_and_as_its_own_kid_holds_its_signature_once() {
        use lopdf::dictionary;
        let mut doc = Document::with_version("1.7");
        let sig = doc.add_object(dictionary! { "Type" => "Sig", "ByteRange" => vec![0.into()] });
        let field = doc.new_object_id();
        doc.objects.insert(
            field,
            Object::Dictionary(dictionary! {
                "T" => Object::string_literal("Sig1"), "FT" => "Sig", "V" => sig,
                "Kids" => vec![field.into(), field.into()],
            }),
        );
        let form = doc.add_object(dictionary! { "Fields" => vec![field.into(), field.into()] });
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "AcroForm" => form });
        doc.trailer.set("Root", catalog);
        let found = signature_fields(&doc);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "Sig1");
        assert!(orphan_signatures(&doc, &found).is_empty());
    }

    #[test]
    fn pdf_dates_parse_with_offsets() {
        let t = parse_pdf_date("D:20261125183000+07'00'").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T11:30:00+00:00");
        assert_eq!(
            parse_pdf_date("D:2026").unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert!(parse_pdf_date("D:20261399").is_none());
        assert!(parse_pdf_date("garbage").is_none());
    }
}
