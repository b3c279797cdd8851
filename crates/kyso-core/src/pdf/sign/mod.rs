//! PAdES signing (ETSI EN 319 142-1, B-B and B-T) and document timestamps (B-LTA) as
//! incremental updates: the original bytes stay untouched, a signature field and dictionary
//! are appended, and the CMS signature (or RFC 3161 token) over everything but its own
//! `/Contents` fills the reserved placeholder. `dss` adds the validation data of B-LT.

mod appearance;
mod dss;

use std::ops::Range;

use ::cms::signed_data::SignedData;
use chrono::{DateTime, FixedOffset};
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId};
use openssl::sha::Sha256;

use crate::pdf::update::{Revision, Update};
pub use appearance::Appearance;
pub use dss::add_validation_data;

use crate::error::{Error, Result};
use crate::pdf::object::{self, text_string};
use crate::pdf::original::{reference, Original};
use crate::pdf::read::{self, Limits};
use crate::pdf::syntax;
use crate::pki::cms::{self, Content, SigningKey};
use crate::pki::tsa::Timestamper;
use crate::pki::Certificate;

/// What to sign with and how the signature should look.
pub struct SignatureSpec<'a> {
    /// Signing time, written to `/M` (PAdES forbids the CMS signingTime attribute).
    pub time: DateTime<FixedOffset>,
    pub reason: Option<&'a str>,
    pub location: Option<&'a str>,
    /// A visible widget; `None` signs invisibly.
    pub appearance: Option<Appearance>,
    /// PAdES B-T: a signature timestamp from this authority.
    pub timestamper: Option<&'a dyn Timestamper>,
}

/// Room reserved for a signature timestamp token; a larger one triggers a second pass.
const TIMESTAMP_RESERVE: usize = 6 * 1024;
/// DER overhead of SignedData around certificates, attributes and the signature value.
const CMS_OVERHEAD: usize = 1024;
/// Extra room when the SignedData is made elsewhere (two-step signing): a remote service may
/// add certificates or attributes, and the byte ranges, fixed before it signs, cannot grow.
const REMOTE_RESERVE: usize = 8 * 1024;

/// A signed PDF (the original bytes followed by the signing update), with the SHA-256 of the
/// original and of the whole, both taken in the pass over the file that its signature's digest
/// takes: the file is hashed once, not three times.
pub struct Signed {
    pub pdf: Vec<u8>,
    pub input_sha256: [u8; 32],
    pub sha256: [u8; 32],
}

/// Signs `pdf`.
pub fn sign(
    pdf: &[u8],
    spec: &SignatureSpec<'_>,
    key: &SigningKey,
    limits: &Limits,
) -> Result<Signed> {
    let doc = read::writable(pdf, limits)?;
    Ok(signature(pdf, &doc, spec, key)?.0)
}

/// Signs `pdf` once per signer, each signature over the file as the one before left it (an
/// official's signature, then the agency's seal): `sign` in turn, with the file read once.
/// Each later signature's update is made from the document read at first and brought up to
/// date with the updates before it, as reading their output would give (kyso wrote them).
/// Every signature's output, the last one's the whole signed file.
pub fn sign_in_turn(
    pdf: &[u8],
    signers: &[(&SignatureSpec<'_>, &SigningKey)],
    limits: &Limits,
) -> Result<Vec<Signed>> {
    let mut doc = read::writable(pdf, limits)?;
    let mut outputs: Vec<Signed> = Vec::with_capacity(signers.len());
    for (i, (spec, key)) in signers.iter().enumerate() {
        let input = outputs.last().map_or(pdf, |signed| &signed.pdf);
        let (signed, revision) = signature(input, &doc, spec, key)?;
        if i + 1 < signers.len() {
            revision.apply(&mut doc, &signed.pdf)?;
        }
        outputs.push(signed);
    }
    Ok(outputs)
}

/// `sign` of `pdf` read as `doc`, and what its update added to the document.
fn signature(
    pdf: &[u8],
    doc: &Document,
    spec: &SignatureSpec<'_>,
    key: &SigningKey,
) -> Result<(Signed, Revision)> {
    check_certification(doc, spec.appearance.is_some())?;
    let reserve = reserve(spec, &key.certificate, &key.chain)?;
    signature_field(spec).fill(pdf, doc, reserve, &|pass| {
        let signed_data = cms::sign(
            Content::Detached {
                digest: &pass.digest(),
            },
            key,
        )?;
        finish_cms(signed_data, spec.timestamper)
    })
}

/// Two-step signing, step one, for a key kyso never sees: the signing update written with an
/// empty /Contents (so the byte ranges are final), and the CMS signed attributes over their
/// digest for `certificate`'s holder to sign. `finish` embeds what comes back.
pub fn prepare(
    pdf: &[u8],
    spec: &SignatureSpec<'_>,
    certificate: &Certificate,
    chain: &[Certificate],
    limits: &Limits,
) -> Result<(Prepared, cms::Unsigned)> {
    let doc = read::writable(pdf, limits)?;
    check_certification(&doc, spec.appearance.is_some())?;
    let reserve = reserve(spec, certificate, chain)? + REMOTE_RESERVE;
    let (prepared, _) = signature_field(spec).prepare(pdf, &doc, reserve)?;
    let digest = digest(prepared.ranges())?;
    let unsigned = cms::Unsigned::new(Content::Detached { digest: &digest }, certificate)?;
    Ok((prepared, unsigned))
}

/// Two-step signing, step two: `signed_data` (checked by the caller against the prepared
/// byte ranges), with a signature timestamp from `timestamper` for B-T, fills /Contents.
pub fn finish(
    prepared: Prepared,
    signed_data: SignedData,
    timestamper: Option<&dyn Timestamper>,
) -> Result<Vec<u8>> {
    let der = finish_cms(signed_data, timestamper)?;
    if !prepared.fits(&der) {
        return Err(Error::Timestamp(format!(
            "the signature with its timestamp ({} bytes) does not fit the room reserved for it",
            der.len()
        )));
    }
    prepared.embed(&der)
}

/// The signature timestamp added (B-T), then the DER of the ContentInfo.
fn finish_cms(signed_data: SignedData, timestamper: Option<&dyn Timestamper>) -> Result<Vec<u8>> {
    let signed_data = match timestamper {
        Some(tsa) => {
            let token = tsa.timestamp(&cms::signature_value(&signed_data)?)?;
            cms::add_signature_timestamp(signed_data, &token)?
        }
        None => signed_data,
    };
    cms::to_der(&signed_data)
}

/// Room for the SignedData: the certificates, the signature value, and a timestamp for B-T.
fn reserve(
    spec: &SignatureSpec<'_>,
    certificate: &Certificate,
    chain: &[Certificate],
) -> Result<usize> {
    let certs_len: usize = std::iter::once(certificate)
        .chain(chain)
        .map(|c| c.der().len())
        .sum();
    let mut reserve = CMS_OVERHEAD + certs_len + cms::max_signature_len(certificate)?;
    if spec.timestamper.is_some() {
        reserve += TIMESTAMP_RESERVE;
    }
    Ok(reserve)
}

fn signature_field<'a>(spec: &'a SignatureSpec<'_>) -> Field<'a> {
    Field {
        head: signature_head(spec),
        appearance: spec.appearance.as_ref(),
    }
}

/// SHA-256 over the signed byte ranges.
fn digest(ranges: [&[u8]; 2]) -> Result<Vec<u8>> {
    let mut hasher = openssl::hash::Hasher::new(openssl::hash::MessageDigest::sha256())
        .map_err(Error::internal)?;
    for range in ranges {
        hasher.update(range).map_err(Error::internal)?;
    }
    Ok(hasher.finish().map_err(Error::internal)?.to_vec())
}

/// A PDF with its signing update written and /Contents still empty: the byte ranges, and
/// so what the signature covers, are final.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub pdf: Vec<u8>,
    /// Where the hex string `<…>` of /Contents sits.
    pub contents: Range<usize>,
}

impl Prepared {
    /// A prepared PDF read back (from storage); its /Contents must be where it says.
    pub fn new(pdf: Vec<u8>, contents: Range<usize>) -> Result<Self> {
        let slot = pdf
            .get(contents.clone())
            .ok_or_else(|| Error::internal("the /Contents slot lies outside the PDF"))?;
        if slot.len() < 2 || slot[0] != b'<' || slot[slot.len() - 1] != b'>' {
            return Err(Error::internal("the /Contents slot is not a hex string"));
        }
        Ok(Prepared { pdf, contents })
    }

    /// Everything but the hex string of /Contents.
    pub fn ranges(&self) -> [&[u8]; 2] {
        [
            &self.pdf[..self.contents.start],
            &self.pdf[self.contents.end..],
        ]
    }

    pub fn digest(&self) -> Result<Vec<u8>> {
        digest(self.ranges())
    }

    fn fits(&self, der: &[u8]) -> bool {
        der.len() * 2 <= self.contents.len() - 2
    }

    /// Writes `der` (which must fit) into /Contents, zero-padded: hex digits straight into
    /// the file, with no string built on the way.
    fn embed(mut self, der: &[u8]) -> Result<Vec<u8>> {
        let at = self.contents.start + 1;
        let room = self
            .pdf
            .get_mut(at..at + 2 * der.len())
            .ok_or_else(|| Error::internal("the signature does not fit /Contents"))?;
        hex::encode_to_slice(der, room).map_err(Error::internal)?;
        Ok(self.pdf)
    }
}

/// Adds a document timestamp (ISO 32000-2 §12.8.5, ETSI EN 319 142-1 §5.4.3: /Type
/// /DocTimeStamp, /SubFilter /ETSI.RFC3161) in an invisible field: `tsa`'s token over the
/// byte ranges is the whole /Contents. PAdES allows it under any certification (DocMDP), as
/// it allows DSS updates.
pub fn timestamp_document(pdf: &[u8], tsa: &dyn Timestamper, limits: &Limits) -> Result<Vec<u8>> {
    let doc = read::writable(pdf, limits)?;
    let field = Field {
        head: dictionary! {
            "Type" => "DocTimeStamp",
            "Filter" => "Adobe.PPKLite",
            "SubFilter" => "ETSI.RFC3161",
        },
        appearance: None,
    };
    let (stamped, _) = field.fill(pdf, &doc, TIMESTAMP_RESERVE, &|pass| {
        tsa.timestamp(&pass.ranges().concat())
    })?;
    Ok(stamped.pdf)
}

/// A new signature field: its signature dictionary's entries besides /ByteRange and
/// /Contents, and its widget's look.
struct Field<'a> {
    head: Dictionary,
    appearance: Option<&'a Appearance>,
}

/// Makes the DER for /Contents from the signed byte ranges.
type Contents<'a> = dyn Fn(&Pass) -> Result<Vec<u8>> + 'a;

/// One SHA-256 pass over a prepared file: through the original (its first bytes, the update
/// follows them), then on to the end of the first byte range. The state there gives the digest
/// of the byte ranges, and once /Contents is filled, the hash of the whole file.
struct Pass {
    prepared: Prepared,
    input_sha256: [u8; 32],
    head: Sha256,
}

impl Pass {
    fn new(prepared: Prepared, input_len: usize) -> Self {
        let [head_range, _] = prepared.ranges();
        let (input, rest) = head_range.split_at(input_len.min(head_range.len()));
        let mut head = Sha256::new();
        head.update(input);
        let input_sha256 = head.clone().finish();
        head.update(rest);
        Pass {
            prepared,
            input_sha256,
            head,
        }
    }

    fn ranges(&self) -> [&[u8]; 2] {
        self.prepared.ranges()
    }

    /// SHA-256 over the byte ranges: what the signature signs.
    fn digest(&self) -> [u8; 32] {
        let mut hasher = self.head.clone();
        hasher.update(self.ranges()[1]);
        hasher.finish()
    }

    /// The file with `der` in /Contents (which must fit), and its hashes.
    fn embed(self, der: &[u8]) -> Result<Signed> {
        let contents_start = self.prepared.contents.start;
        let pdf = self.prepared.embed(der)?;
        let mut hasher = self.head;
        hasher.update(&pdf[contents_start..]);
        Ok(Signed {
            input_sha256: self.input_sha256,
            sha256: hasher.finish(),
            pdf,
        })
    }
}

impl Field<'_> {
    /// The signed file, and what its update added to the document.
    fn fill(
        &self,
        pdf: &[u8],
        doc: &Document,
        reserve: usize,
        contents: &Contents<'_>,
    ) -> Result<(Signed, Revision)> {
        let (prepared, revision) = self.prepare(pdf, doc, reserve)?;
        let pass = Pass::new(prepared, pdf.len());
        let der = contents(&pass)?;
        if pass.prepared.fits(&der) {
            return Ok((pass.embed(&der)?, revision));
        }
        // Only an unusually large timestamp token gets here; its size is now known.
        let (prepared, revision) = self.prepare(pdf, doc, der.len() + 512)?;
        let pass = Pass::new(prepared, pdf.len());
        let der = contents(&pass)?;
        if !pass.prepared.fits(&der) {
            return Err(Error::Timestamp("the token keeps growing".into()));
        }
        Ok((pass.embed(&der)?, revision))
    }

    /// The update with the field, its widget and a signature dictionary whose /ByteRange is
    /// final and whose /Contents holds `reserve` zero bytes; and what it adds to the document.
    fn prepare(&self, pdf: &[u8], doc: &Document, reserve: usize) -> Result<(Prepared, Revision)> {
        let mut update = Update::new(doc);
        let sig_id = update.alloc();
        let field_id = update.alloc();
        let page_no = self.appearance.map_or(1, |a| a.page);
        let page_id = *doc
            .get_pages()
            .get(&page_no)
            .ok_or_else(|| Error::InvalidInput(format!("the document has no page {page_no}")))?;

        let (rect, ap_id) = match self.appearance {
            Some(appearance) => (appearance.rect, appearance.write(&mut update)?),
            None => ([0.0; 4], appearance::write_invisible(&mut update)),
        };
        let field_name = unused_field_name(doc);
        update.put(
            field_id,
            dictionary! {
                "Type" => "Annot",
                "Subtype" => "Widget",
                "FT" => "Sig",
                "T" => text_string(&field_name),
                "V" => sig_id,
                // Print + Locked: the widget is part of the signed record.
                "F" => 132,
                "Rect" => rect.iter().map(|&v| Object::Real(v)).collect::<Vec<_>>(),
                "P" => page_id,
                "AP" => dictionary! { "N" => ap_id },
            },
        );
        let original = Original::new(pdf, doc);
        add_to_page(&original, &mut update, page_id, field_id)?;
        add_to_acroform(&original, &mut update, field_id)?;

        let placeholder = placeholder(&self.head, reserve);
        update.put_raw(sig_id, placeholder.bytes.clone());
        let written = update.write(pdf, doc)?;
        let sig_offset = written
            .raw_offsets
            .get(&sig_id.0)
            .copied()
            .ok_or_else(|| Error::internal("signature dictionary not written"))?;
        let mut out = written.bytes;

        // ByteRange: everything but the hex string `<...>` of /Contents.
        let contents_start = sig_offset + placeholder.contents_at;
        let contents_end = contents_start + placeholder.contents_len;
        let byte_range = [0, contents_start, contents_end, out.len() - contents_end];
        let range_text = format!(
            "[{} {} {} {}]",
            byte_range[0], byte_range[1], byte_range[2], byte_range[3]
        );
        let range_at = sig_offset + placeholder.byte_range_at;
        let range_slot = &mut out[range_at..range_at + placeholder.byte_range_len];
        range_slot.fill(b' ');
        range_slot[..range_text.len()].copy_from_slice(range_text.as_bytes());

        Ok((
            Prepared {
                pdf: out,
                contents: contents_start..contents_end,
            },
            written.revision,
        ))
    }
}

/// The serialised signature dictionary and where its placeholders sit inside it.
struct Placeholder {
    bytes: Vec<u8>,
    byte_range_at: usize,
    byte_range_len: usize,
    contents_at: usize,
    contents_len: usize,
}

/// The entries of a CAdES signature dictionary besides /ByteRange and /Contents.
fn signature_head(spec: &SignatureSpec<'_>) -> Dictionary {
    let mut dict = dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "ETSI.CAdES.detached",
        "M" => Object::string_literal(pdf_date(&spec.time)),
    };
    if let Some(reason) = spec.reason {
        dict.set("Reason", text_string(reason));
    }
    if let Some(location) = spec.location {
        dict.set("Location", text_string(location));
    }
    dict
}

/// `head` followed by /ByteRange and /Contents slots of `reserve` bytes.
fn placeholder(head: &Dictionary, reserve: usize) -> Placeholder {
    let mut bytes = Vec::new();
    object::write_dict(&mut bytes, head);
    bytes.truncate(bytes.len() - 2); // reopen the dictionary: drop ">>"
    bytes.extend_from_slice(b"/ByteRange ");
    let byte_range_at = bytes.len();
    // Room for four offsets of up to ten digits each.
    let slot = format!("[0 {z} {z} {z}]", z = "0".repeat(10));
    bytes.extend_from_slice(slot.as_bytes());
    bytes.extend_from_slice(b"/Contents ");
    let contents_at = bytes.len();
    bytes.push(b'<');
    bytes.extend(std::iter::repeat_n(b'0', reserve * 2));
    bytes.push(b'>');
    bytes.extend_from_slice(b">>");
    Placeholder {
        bytes,
        byte_range_at,
        byte_range_len: slot.len(),
        contents_at,
        contents_len: reserve * 2 + 2,
    }
}

/// `D:YYYYMMDDHHmmSS+07'00'` (ISO 32000-1 §7.9.4).
pub fn pdf_date(time: &DateTime<FixedOffset>) -> String {
    let offset = time.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!(
        "D:{}{sign}{:02}'{:02}'",
        time.format("%Y%m%d%H%M%S"),
        offset / 3600,
        offset % 3600 / 60
    )
}

/// Refuses a signature the document's certification does not allow (ISO 32000-1 §12.8.2.2,
/// Table 254): none at all under DocMDP P=1, and no new visible signature field under P=2
/// or 3 — pyHanko, like other validators reading "signing" as signing existing fields, then
/// reports the certification signature as broken. An invisible signature remains possible.
fn check_certification(doc: &Document, visible: bool) -> Result<()> {
    let Some(permission) = docmdp(doc) else {
        return Ok(());
    };
    if permission == 1 {
        return Err(Error::PdfCertified(
            "its certification signature allows no change (DocMDP P=1), not even a signature"
                .into(),
        ));
    }
    if visible {
        return Err(Error::PdfCertified(format!(
            "a new visible signature would break its certification signature (DocMDP P={permission}); sign invisibly"
        )));
    }
    Ok(())
}

/// The /P of the certification signature's DocMDP transform (default 2), if the document is
/// certified: catalog /Perms /DocMDP → signature → /Reference → /TransformParams.
fn docmdp(doc: &Document) -> Option<i64> {
    let deref = |o: &Object| doc.dereference(o).ok().map(|(_, o)| o.clone());
    let perms = deref(doc.catalog().ok()?.get(b"Perms").ok()?)?;
    let signature = deref(perms.as_dict().ok()?.get(b"DocMDP").ok()?)?;
    let Ok(references) = signature.as_dict().and_then(|d| d.get(b"Reference")) else {
        return Some(2);
    };
    let references = deref(references)?;
    let permission = references
        .as_array()
        .ok()?
        .iter()
        .filter_map(|r| deref(r)?.as_dict().ok().cloned())
        .filter(|r| r.get(b"TransformMethod").and_then(Object::as_name).ok() == Some(b"DocMDP"))
        .find_map(|r| {
            let params = deref(r.get(b"TransformParams").ok()?)?;
            params
                .as_dict()
                .ok()?
                .get(b"P")
                .and_then(Object::as_i64)
                .ok()
        });
    Some(permission.unwrap_or(2))
}

/// `Signature1`, `Signature2`, … — the first name no field of the form uses yet.
fn unused_field_name(doc: &Document) -> String {
    let mut taken = Vec::new();
    if let Ok(fields) = acroform(doc).and_then(|form| Ok(form.get(b"Fields")?.clone())) {
        collect_field_names(doc, &fields, &mut taken, 0);
    }
    (1..)
        .map(|i| format!("Signature{i}"))
        .find(|name| !taken.iter().any(|t| t == name.as_bytes()))
        .unwrap_or_default()
}

fn collect_field_names(doc: &Document, fields: &Object, out: &mut Vec<Vec<u8>>, depth: usize) {
    if depth > 32 {
        return; // malformed, cyclic forms
    }
    let Ok((_, Object::Array(items))) = doc.dereference(fields) else {
        return;
    };
    for item in items {
        if let Ok((_, Object::Dictionary(field))) = doc.dereference(item) {
            if let Ok(Object::String(name, _)) = field.get(b"T") {
                out.push(name.clone());
            }
            if let Ok(kids) = field.get(b"Kids") {
                collect_field_names(doc, kids, out, depth + 1);
            }
        }
    }
}

fn catalog_id(doc: &Document) -> Result<ObjectId> {
    doc.trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| Error::PdfMalformed("the trailer has no catalog".into()))
}

pub(crate) fn acroform(doc: &Document) -> Result<&Dictionary> {
    let catalog = doc.get_dictionary(catalog_id(doc)?)?;
    let form = catalog.get(b"AcroForm")?;
    match doc.dereference(form) {
        Ok((_, Object::Dictionary(dict))) => Ok(dict),
        _ => Err(Error::PdfMalformed("/AcroForm is not a dictionary".into())),
    }
}

/// Adds the widget to the page's /Annots, rewriting the page (or its indirect /Annots array)
/// from its original bytes so that nothing else in it changes.
fn add_to_page(
    original: &Original<'_>,
    update: &mut Update,
    page_id: ObjectId,
    widget: ObjectId,
) -> Result<()> {
    let page = original.object(page_id)?;
    let edited = original.append(update, &page, b"Annots", widget)?;
    if edited != page {
        update.put_raw(page_id, edited);
    }
    Ok(())
}

/// Adds the field to /AcroForm /Fields, creating the form if the document has none.
fn add_to_acroform(original: &Original<'_>, update: &mut Update, field: ObjectId) -> Result<()> {
    let root_id = catalog_id(original.doc)?;
    let catalog = original.object(root_id)?;
    match original.resolve(&catalog, b"AcroForm")? {
        Some((form, Some(form_id))) => {
            let edited = edit_form(original, update, &form, field)?;
            if edited != form {
                update.put_raw(form_id, edited);
            }
        }
        Some((form, None)) if form.starts_with(b"<<") => {
            let edited = edit_form(original, update, &form, field)?;
            update.put_raw(root_id, syntax::set(&catalog, b"AcroForm", &edited)?);
        }
        _ => {
            let form = [
                b"<</Fields [",
                reference(field).as_slice(),
                b"]/SigFlags 3>>",
            ]
            .concat();
            update.put_raw(root_id, syntax::set(&catalog, b"AcroForm", &form)?);
        }
    }
    Ok(())
}

/// The AcroForm with the new field; /SigFlags raised to SignaturesExist | AppendOnly
/// (ISO 32000-1 §12.7.2, Table 219) unless an earlier signature exists — the flags are
/// advisory, and changing them after a signature is a change its validators reject (pyHanko
/// only lets /Fields, /DR, /DA, /Q and /NeedAppearances differ). /NeedAppearances is dropped:
/// a viewer must show the signed appearances, not regenerate them.
fn edit_form(
    original: &Original<'_>,
    update: &mut Update,
    form: &[u8],
    field: ObjectId,
) -> Result<Vec<u8>> {
    let mut form = original.append(update, form, b"Fields", field)?;
    if syntax::get(&form, b"NeedAppearances")?.is_some() {
        form = syntax::remove(&form, b"NeedAppearances")?;
    }
    let flags = syntax::get(&form, b"SigFlags")?
        .and_then(|v| syntax::integer(v, 0))
        .map_or(0, |(flags, _)| flags);
    if flags & 3 != 3 && !object::is_signed(original.doc) {
        form = syntax::set(&form, b"SigFlags", (flags | 3).to_string().as_bytes())?;
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::original::tests::classic;

    fn certified(perms: &str) -> Document {
        let catalog = format!("<</Type/Catalog/Pages 2 0 R{perms}>>");
        let pdf = classic(&[
            (1, 0, &catalog),
            (2, 0, "<</Type/Pages/Kids[3 0 R]/Count 1>>"),
            (3, 0, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595.3 841.9]>>"),
            (
                4,
                0,
                "<</Type/Sig/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams 5 0 R>>]>>",
            ),
            (5, 0, "<</Type/TransformParams/P 1/V/1.2>>"),
            (6, 0, "<</Type/Sig>>"),
        ]);
        crate::pdf::read::writable(&pdf, &Default::default()).unwrap()
    }

    /// The hashes of the one pass are those of the file read anew, and the signature, checked
    /// by OpenSSL against the byte ranges of the output, signs the digest the pass gave.
    #[test]
    fn the_pass_hashes_input_output_and_byte_ranges_alike() {
        use crate::pki::dev::{self, KeyAlgorithm, Profile, SubjectSpec};
        use chrono::{Duration, Utc};
        use openssl::sha::sha256;

        let now = Utc::now();
        let ca = dev::new_root("pass test CA", KeyAlgorithm::Rsa2048).unwrap();
        let subject = SubjectSpec {
            common_name: "signer",
            ..Default::default()
        };
        let (from, until) = (now - Duration::hours(1), now + Duration::days(1));
        let issued = dev::issue(
            &ca,
            &subject,
            Profile::Signer,
            KeyAlgorithm::Rsa2048,
            from,
            until,
        )
        .unwrap();
        let key = SigningKey {
            key: Box::new(issued.key.clone()),
            certificate: Certificate::from_x509(issued.cert.clone()).unwrap(),
            chain: Vec::new(),
        };
        let pdf = crate::pdf::original::tests::classic(&[
            (1, 0, "<</Type/Catalog/Pages 2 0 R>>"),
            (2, 0, "<</Type/Pages/Kids[3 0 R]/Count 1>>"),
            (
                3,
                0,
                "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595.3 841.9]>>",
            ),
        ]);
        let spec = SignatureSpec {
            time: now.fixed_offset(),
            reason: None,
            location: None,
            appearance: None,
            timestamper: None,
        };
        let signed = sign(&pdf, &spec, &key, &Limits::default()).unwrap();
        assert_eq!(signed.input_sha256, sha256(&pdf));
        assert_eq!(signed.sha256, sha256(&signed.pdf));
        assert!(signed.pdf.starts_with(&pdf));

        use crate::pdf::verify::{self, Context};
        use crate::pki::revocation::{RevocationLists, RevocationSource};
        let anchor = Certificate::from_x509(ca.cert.clone()).unwrap();
        let context = Context {
            trust: &crate::pki::trust::TrustStore::new(vec![anchor]),
            revocation: &RevocationSource::new(RevocationLists::default(), None),
            now,
            limits: Limits::default(),
        };
        let report = verify::verify(&signed.pdf, &context).unwrap();
        let checks = &report.signatures[0].checks;
        assert_eq!(
            (checks.byte_range, checks.digest, checks.signature),
            (Some(true), Some(true), Some(true))
        );
    }

    #[test]
    fn certification_limits_what_may_be_signed() {
        let code = |doc: &Document, visible| {
            check_certification(doc, visible).map_err(|e| matches!(e, Error::PdfCertified(_)))
        };
        let none = certified("");
        assert_eq!(code(&none, true), Ok(()));
        let p1 = certified("/Perms<</DocMDP 4 0 R>>");
        assert_eq!(code(&p1, false), Err(true));
        // No /Reference: the default permission, P=2.
        let p2 = certified("/Perms<</DocMDP 6 0 R>>");
        assert_eq!(code(&p2, true), Err(true));
        assert_eq!(code(&p2, false), Ok(()));
    }
}
