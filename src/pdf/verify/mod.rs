//! Signature integrity: for each signature field, do the byte ranges hash to the signed
//! digest, does the CMS signature match its certificate, and does it cover the whole file.
//! An invalid signature is a result, not an error; `Err` means the input is not a readable PDF.

use ::cms::content_info::ContentInfo;
use ::cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::ID_MESSAGE_DIGEST;
use der::asn1::OctetString;
use der::{Decode, Encode};
use lopdf::{Dictionary, Document, Object};
use openssl::hash::{Hasher, MessageDigest};
use openssl::x509::X509;
use serde::Serialize;
use x509_cert::Certificate;

use crate::error::Result;
use crate::pdf::object;
use crate::pki::cms::sha256;

#[derive(Debug, Serialize)]
pub struct IntegrityReport {
    pub sha256: String,
    pub signatures: Vec<SignatureIntegrity>,
}

#[derive(Debug, Serialize)]
pub struct SignatureIntegrity {
    pub field: String,
    pub sub_filter: Option<String>,
    pub signer: Option<String>,
    /// The claimed signing time (`/M`), as written.
    pub signing_time: Option<String>,
    pub byte_range: Vec<i64>,
    /// The byte ranges are well formed and leave out exactly the `/Contents` string.
    pub byte_range_ok: bool,
    pub digest_ok: bool,
    pub signature_ok: bool,
    pub covers_whole_file: bool,
    pub problems: Vec<String>,
}

impl SignatureIntegrity {
    pub fn intact(&self) -> bool {
        self.byte_range_ok && self.digest_ok && self.signature_ok
    }
}

pub fn verify(pdf: &[u8]) -> Result<IntegrityReport> {
    let doc = object::parse(pdf)?;
    let signatures = signature_fields(&doc)
        .into_iter()
        .map(|(field, sig)| check(pdf, field, sig))
        .collect();
    Ok(IntegrityReport {
        sha256: hex::encode(sha256(pdf)?),
        signatures,
    })
}

/// (field name, signature dictionary) for every signed signature field, depth-first.
fn signature_fields(doc: &Document) -> Vec<(String, &Dictionary)> {
    let mut out = Vec::new();
    let fields = doc
        .trailer
        .get(b"Root")
        .and_then(|root| doc.dereference(root))
        .and_then(|(_, root)| root.as_dict())
        .and_then(|root| root.get(b"AcroForm"))
        .and_then(|form| doc.dereference(form))
        .and_then(|(_, form)| form.as_dict())
        .and_then(|form| form.get(b"Fields"));
    if let Ok(fields) = fields {
        walk_fields(doc, fields, "", &mut out, 0);
    }
    out
}

fn walk_fields<'a>(
    doc: &'a Document,
    fields: &'a Object,
    prefix: &str,
    out: &mut Vec<(String, &'a Dictionary)>,
    depth: usize,
) {
    let Ok((_, Object::Array(items))) = doc.dereference(fields) else {
        return;
    };
    if depth > 32 {
        return;
    }
    for item in items {
        let Ok((_, Object::Dictionary(field))) = doc.dereference(item) else {
            continue;
        };
        let name = match field.get(b"T") {
            Ok(Object::String(t, _)) => {
                let t = lopdf::decode_text_string(&Object::String(
                    t.clone(),
                    lopdf::StringFormat::Literal,
                ))
                .unwrap_or_else(|_| String::from_utf8_lossy(t).into_owned());
                if prefix.is_empty() {
                    t
                } else {
                    format!("{prefix}.{t}")
                }
            }
            _ => prefix.to_owned(),
        };
        let is_sig = matches!(field.get(b"FT"), Ok(Object::Name(ft)) if ft == b"Sig");
        if is_sig {
            if let Ok((_, Object::Dictionary(sig))) =
                field.get(b"V").and_then(|v| doc.dereference(v))
            {
                out.push((name.clone(), sig));
            }
        }
        if let Ok(kids) = field.get(b"Kids") {
            walk_fields(doc, kids, &name, out, depth + 1);
        }
    }
}

fn name_of(dict: &Dictionary, key: &[u8]) -> Option<String> {
    dict.get(key)
        .and_then(Object::as_name)
        .ok()
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn check(pdf: &[u8], field: String, sig: &Dictionary) -> SignatureIntegrity {
    let byte_range: Vec<i64> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_i64().ok()).collect())
        .unwrap_or_default();
    let mut report = SignatureIntegrity {
        field,
        sub_filter: name_of(sig, b"SubFilter"),
        signer: None,
        signing_time: sig
            .get(b"M")
            .and_then(Object::as_str)
            .ok()
            .map(|m| String::from_utf8_lossy(m).into_owned()),
        byte_range: byte_range.clone(),
        byte_range_ok: false,
        digest_ok: false,
        signature_ok: false,
        covers_whole_file: false,
        problems: Vec::new(),
    };
    let contents = match sig.get(b"Contents") {
        Ok(Object::String(bytes, _)) => bytes.clone(),
        _ => {
            report.problems.push("no /Contents string".into());
            return report;
        }
    };
    let Some((ranges, gap)) = ranges(pdf, &byte_range) else {
        report
            .problems
            .push("/ByteRange is missing, malformed or outside the file".into());
        return report;
    };
    report.covers_whole_file = ranges[1].end == pdf.len();
    // The gap must be exactly the hex string holding these Contents.
    let gap_bytes = &pdf[gap];
    let hex_ok = gap_bytes.first() == Some(&b'<')
        && gap_bytes.last() == Some(&b'>')
        && hex::decode(
            gap_bytes[1..gap_bytes.len() - 1]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .copied()
                .collect::<Vec<u8>>(),
        )
        .is_ok_and(|decoded| decoded == contents);
    if !hex_ok {
        report
            .problems
            .push("the bytes left out of /ByteRange are not this signature's /Contents".into());
        return report;
    }
    report.byte_range_ok = true;

    let mut hasher = match Hasher::new(MessageDigest::sha256()) {
        Ok(h) => h,
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    let digest = ranges
        .iter()
        .try_for_each(|r| hasher.update(&pdf[r.clone()]))
        .and_then(|()| hasher.finish());
    match (digest, parse_cms(&contents)) {
        (Ok(digest), Ok((signed_data, signer_info))) => {
            check_cms(&mut report, &digest, &signed_data, &signer_info)
        }
        (Err(e), _) => report.problems.push(e.to_string()),
        (_, Err(e)) => report.problems.push(e),
    }
    report
}

/// The two signed ranges and the gap between them, if they are sane: starting at 0, in
/// order, inside the file.
fn ranges(pdf: &[u8], br: &[i64]) -> Option<([std::ops::Range<usize>; 2], std::ops::Range<usize>)> {
    let [a, b, c, d] = <[i64; 4]>::try_from(br).ok()?;
    let [a, b, c, d] = [a, b, c, d].map(|v| usize::try_from(v).ok());
    let (a, b, c, d) = (a?, b?, c?, d?);
    let end = c.checked_add(d)?;
    (a == 0 && b > 1 && c > b + 1 && end <= pdf.len()).then_some(([a..b, c..end], b..c))
}

/// The CMS blob may be zero-padded after its DER end; decode just the DER value.
fn parse_cms(contents: &[u8]) -> std::result::Result<(SignedData, SignerInfo), String> {
    let der_len = der::SliceReader::new(contents)
        .and_then(|mut reader| der::Header::decode(&mut reader))
        .and_then(|h| h.encoded_len()? + h.length)
        .ok()
        .and_then(|len| usize::try_from(len).ok())
        .filter(|&len| len <= contents.len())
        .ok_or("/Contents is not a DER structure")?;
    let info = ContentInfo::from_der(&contents[..der_len]).map_err(|e| format!("CMS: {e}"))?;
    let signed_data: SignedData = info
        .content
        .decode_as()
        .map_err(|e| format!("CMS SignedData: {e}"))?;
    let signer_info = signed_data
        .signer_infos
        .0
        .get(0)
        .cloned()
        .ok_or("CMS without a signer")?;
    Ok((signed_data, signer_info))
}

fn check_cms(
    report: &mut SignatureIntegrity,
    digest: &[u8],
    signed_data: &SignedData,
    signer_info: &SignerInfo,
) {
    let certificate = signer_certificate(signed_data, signer_info);
    report.signer = certificate
        .as_ref()
        .map(|c| c.tbs_certificate.subject.to_string());
    let Some(attrs) = &signer_info.signed_attrs else {
        report
            .problems
            .push("no signed attributes (not PAdES)".into());
        return;
    };
    let message_digest = attrs
        .iter()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.get(0))
        .and_then(|v| v.decode_as::<OctetString>().ok());
    report.digest_ok = message_digest.is_some_and(|md| md.as_bytes() == digest);
    if !report.digest_ok {
        report
            .problems
            .push("the document bytes do not match the signed digest".into());
    }
    let verified = (|| -> std::result::Result<bool, String> {
        let cert = certificate.ok_or("the signer's certificate is not in the signature")?;
        let cert = X509::from_der(&cert.to_der().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let public_key = cert.public_key().map_err(|e| e.to_string())?;
        let signed = attrs.to_der().map_err(|e| e.to_string())?;
        let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &public_key)
            .map_err(|e| e.to_string())?;
        verifier
            .verify_oneshot(signer_info.signature.as_bytes(), &signed)
            .map_err(|e| e.to_string())
    })();
    match verified {
        Ok(ok) => {
            report.signature_ok = ok;
            if !ok {
                report
                    .problems
                    .push("the signature does not match the signer's public key".into());
            }
        }
        Err(e) => report.problems.push(e),
    }
}

fn signer_certificate(signed_data: &SignedData, signer_info: &SignerInfo) -> Option<Certificate> {
    let certs = signed_data.certificates.as_ref()?;
    certs.0.iter().find_map(|choice| match choice {
        ::cms::cert::CertificateChoices::Certificate(cert) => {
            let matches = match &signer_info.sid {
                SignerIdentifier::IssuerAndSerialNumber(isn) => {
                    cert.tbs_certificate.issuer == isn.issuer
                        && cert.tbs_certificate.serial_number == isn.serial_number
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => cert
                    .tbs_certificate
                    .extensions
                    .iter()
                    .flatten()
                    .any(|ext| ext.extn_value.as_bytes().ends_with(ski.0.as_bytes())),
            };
            matches.then(|| cert.clone())
        }
        _ => None,
    })
}
