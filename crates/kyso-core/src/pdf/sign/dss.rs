//! PAdES B-LT validation data: a Document Security Store (ISO 32000-2 §12.8.4.3, ETSI EN
//! 319 142-1 §5.4.2) written in an incremental update, holding for every signature and
//! document timestamp of the file the whole certificate chain of its signer and of its
//! time-stamping authorities, and the revocation data of those chains: OCSP answers and CRLs
//! fetched from the certificates' own URLs, else the CRLs kyso has loaded.

use std::collections::BTreeMap;

use chrono::Utc;
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream};
use openssl::hash::MessageDigest;
use openssl::x509::X509NameRef;

use crate::error::{Error, Result};
use crate::pdf::original::{reference, Original};
use crate::pdf::read::{self, Limits};
use crate::pdf::syntax;
use crate::pdf::update::Update;
use crate::pdf::verify::cms;
use crate::pki::certificate::Certificate;
use crate::pki::revocation::{to_utc, RevocationSource};
use crate::pki::trust::TrustStore;

/// Appends an update whose DSS holds the validation data of every signature in `pdf`,
/// keeping what an earlier DSS holds. Returns `pdf` unchanged when there is nothing to add.
pub fn add_validation_data(
    pdf: &[u8],
    trust: &TrustStore,
    revocation: &RevocationSource,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let doc = read::writable(pdf, limits)?;
    let signatures = signatures(&doc)?;
    if signatures.is_empty() {
        return Err(Error::InvalidInput(
            "the document has no signature to extend".into(),
        ));
    }
    let pool: Vec<Certificate> = signatures
        .iter()
        .flat_map(|s| s.certificates.iter().cloned())
        .collect();
    let catalog_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| Error::PdfMalformed("the trailer has no catalog".into()))?;
    let old = existing_dss(pdf, &doc, catalog_id);
    let mut update = Update::new(&doc);
    let mut store = Store::new(&old);
    let mut vri = old.vri.clone();
    for signature in &signatures {
        let data = validation_data(&signature.certificates, &pool, trust, revocation)?;
        let cert_refs = store.add(&mut update, Kind::Certs, &data.certs);
        let crl_refs = store.add(&mut update, Kind::Crls, &data.crls);
        let ocsp_refs = store.add(&mut update, Kind::Ocsps, &data.ocsps);
        if vri.has(signature.vri_key.as_bytes()) {
            continue;
        }
        let mut entry = dictionary! { "Cert" => cert_refs };
        if !crl_refs.is_empty() {
            entry.set("CRL", crl_refs);
        }
        if !ocsp_refs.is_empty() {
            entry.set("OCSP", ocsp_refs);
        }
        vri.set(signature.vri_key.as_bytes().to_vec(), entry);
    }
    if !store.grew && vri.len() == old.vri.len() {
        return Ok(pdf.to_vec());
    }

    let mut dss = dictionary! { "Type" => "DSS", "VRI" => vri };
    for kind in [Kind::Certs, Kind::Crls, Kind::Ocsps] {
        if !store.refs[kind as usize].is_empty() {
            dss.set(kind.key(), store.refs[kind as usize].clone());
        }
    }
    match old.id {
        // The catalog names the DSS object: only that object changes.
        Some(id) => update.put(id, dss),
        None => {
            let id = update.alloc();
            update.put(id, dss);
            let catalog = Original::new(pdf, &doc).object(catalog_id)?;
            update.put_raw(catalog_id, syntax::set(&catalog, b"DSS", &reference(id))?);
        }
    }
    Ok(update.write(pdf, &doc)?.bytes)
}

/// What the DSS needs about one signature or document timestamp.
struct Signature {
    /// ETSI EN 319 142-1 §5.4.2.3: upper-case hex SHA-1 of the /Contents value.
    vri_key: String,
    /// The certificates its CMS and its signature timestamp carry.
    certificates: Vec<Certificate>,
}

/// Every signature dictionary (`/ByteRange` and `/Contents`) of the document.
fn signatures(doc: &Document) -> Result<Vec<Signature>> {
    let mut found = Vec::new();
    for dict in doc.objects.values().filter_map(|o| o.as_dict().ok()) {
        let Ok(Object::String(contents, _)) = dict.get(b"Contents") else {
            continue;
        };
        if !dict.has(b"ByteRange") {
            continue;
        }
        let digest =
            openssl::hash::hash(MessageDigest::sha1(), contents).map_err(Error::internal)?;
        let Ok(parsed) = cms::parse(contents) else {
            continue; // not a CMS signature this module can describe
        };
        let mut certificates = parsed.certificates.clone();
        if let Some(token) = parsed.timestamp_token().and_then(|t| cms::parse(&t).ok()) {
            certificates.extend(token.certificates);
        }
        found.push(Signature {
            vri_key: hex::encode_upper(digest),
            certificates,
        });
    }
    Ok(found)
}

/// DER certificates, CRLs and OCSP answers.
#[derive(Default)]
struct ValidationData {
    certs: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsps: Vec<Vec<u8>>,
}

/// The chains (to a trust anchor where one exists) of `certs`, and the revocation data of
/// every certificate on them below the anchor.
fn validation_data(
    certs: &[Certificate],
    pool: &[Certificate],
    trust: &TrustStore,
    revocation: &RevocationSource,
) -> Result<ValidationData> {
    let issuers: Vec<&Certificate> = pool.iter().chain(trust.anchors()).collect();
    let mut data = ValidationData::default();
    let now = Utc::now();
    for cert in certs {
        // A certificate that has expired since it signed (the case B-LT exists for) still
        // chains at the last second of its validity.
        let last_valid = to_utc(cert.x509().not_after()).map(|t| t - chrono::Duration::seconds(1));
        let chained = std::iter::once(now)
            .chain(last_valid)
            .find_map(|at| trust.chain(cert, pool, at).ok());
        let trusted = chained.is_some();
        let chain = chained.unwrap_or_else(|| vec![cert.clone()]);
        for (i, c) in chain.iter().enumerate() {
            if let Some(issuer) = chain.get(i + 1).or_else(|| issuer_of(c, &issuers)) {
                // The URLs of a certificate no anchor vouches for are anyone's: not fetched.
                if trusted {
                    let evidence = revocation.evidence(c, issuer, now);
                    data.crls.extend(evidence.crls);
                    data.ocsps.extend(evidence.ocsps);
                } else {
                    data.crls.extend(revocation.file_crls(c, issuer));
                }
            }
            data.certs.push(c.der().to_vec());
        }
    }
    Ok(data)
}

/// The known certificate that issued `cert`: its subject is `cert`'s issuer and its key
/// verifies `cert`. Chain validity does not matter here, so data is found even for a
/// certificate whose chain no longer validates today. A self-issued certificate (an anchor)
/// has none: there is nothing to check about it.
fn issuer_of<'a>(cert: &Certificate, issuers: &[&'a Certificate]) -> Option<&'a Certificate> {
    let cert = cert.x509();
    let name = |n: &X509NameRef| n.to_der().ok();
    let issuer = name(cert.issuer_name());
    if issuer.is_none() || issuer == name(cert.subject_name()) {
        return None;
    }
    issuers.iter().copied().find(|i| {
        name(i.x509().subject_name()) == issuer
            && i.x509()
                .public_key()
                .is_ok_and(|key| cert.verify(&key).unwrap_or(false))
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Certs = 0,
    Crls = 1,
    Ocsps = 2,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Certs => "Certs",
            Kind::Crls => "CRLs",
            Kind::Ocsps => "OCSPs",
        }
    }
}

/// The DSS as the document has it.
#[derive(Default)]
struct OldDss {
    id: Option<ObjectId>,
    vri: Dictionary,
    /// Per kind: the stream references and their decoded bytes.
    items: [Vec<(Object, Vec<u8>)>; 3],
}

fn existing_dss(pdf: &[u8], doc: &Document, catalog_id: ObjectId) -> OldDss {
    let deref = |o: &Object| doc.dereference(o).ok().map(|(id, o)| (id, o.clone()));
    let Some((id, Object::Dictionary(dss))) = doc
        .get_dictionary(catalog_id)
        .ok()
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(deref)
    else {
        return OldDss::default();
    };
    let mut old = OldDss {
        id,
        ..OldDss::default()
    };
    if let Some((_, Object::Dictionary(vri))) = dss.get(b"VRI").ok().and_then(deref) {
        old.vri = vri;
    }
    for kind in [Kind::Certs, Kind::Crls, Kind::Ocsps] {
        let Some((_, Object::Array(items))) = dss.get(kind.key().as_bytes()).ok().and_then(deref)
        else {
            continue;
        };
        for item in items {
            let bytes = deref(&item)
                .and_then(|(_, o)| o.as_stream().ok().cloned())
                .and_then(|s| {
                    read::decoded(pdf, &s).or_else(|| Some(read::stream_data(pdf, &s).to_vec()))
                })
                .unwrap_or_default();
            old.items[kind as usize].push((item, bytes));
        }
    }
    old
}

/// The DSS arrays being built: the old entries, then new streams for data not yet there.
struct Store {
    refs: [Vec<Object>; 3],
    known: [BTreeMap<Vec<u8>, Object>; 3],
    grew: bool,
}

impl Store {
    fn new(old: &OldDss) -> Self {
        let mut store = Store {
            refs: Default::default(),
            known: Default::default(),
            grew: false,
        };
        for (i, items) in old.items.iter().enumerate() {
            for (reference, bytes) in items {
                store.refs[i].push(reference.clone());
                store.known[i].insert(bytes.clone(), reference.clone());
            }
        }
        store
    }

    /// References to `ders` in the DSS, appending streams for those it lacks.
    fn add(&mut self, update: &mut Update, kind: Kind, ders: &[Vec<u8>]) -> Vec<Object> {
        let mut refs = Vec::new();
        for der in ders {
            let reference = match self.known[kind as usize].get(der) {
                Some(r) => r.clone(),
                None => {
                    let id = update.alloc();
                    update.put(id, Stream::new(Dictionary::new(), der.clone()));
                    let r = Object::Reference(id);
                    self.refs[kind as usize].push(r.clone());
                    self.known[kind as usize].insert(der.clone(), r.clone());
                    self.grew = true;
                    r
                }
            };
            if !refs.contains(&reference) {
                refs.push(reference);
            }
        }
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::original::tests::classic;

    /// An inline DSS from another producer: its data is found, and the same certificate is
    /// referenced, not stored twice, while a new one is appended.
    #[test]
    fn an_existing_dss_is_kept_and_grown_only_by_what_it_lacks() {
        let pdf = classic(&[
            (
                1,
                0,
                "<</Type/Catalog/Pages 2 0 R/DSS<</Certs[4 0 R]/VRI<</AB<</Cert[4 0 R]>>>>>>>>",
            ),
            (2, 0, "<</Type/Pages/Kids[3 0 R]/Count 1>>"),
            (3, 0, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>"),
            (4, 0, "<</Length 3>>stream\nabc\nendstream"),
        ]);
        let doc = read::writable(&pdf, &Default::default()).unwrap();
        let old = existing_dss(&pdf, &doc, (1, 0));
        assert_eq!(old.id, None);
        assert!(old.vri.has(b"AB"));
        assert_eq!(old.items[Kind::Certs as usize].len(), 1);

        let mut update = Update::new(&doc);
        let mut store = Store::new(&old);
        let known = store.add(&mut update, Kind::Certs, &[b"abc".to_vec()]);
        assert_eq!(known, vec![Object::Reference((4, 0))]);
        assert!(!store.grew);
        let added = store.add(
            &mut update,
            Kind::Certs,
            &[b"xyz".to_vec(), b"abc".to_vec()],
        );
        assert!(store.grew);
        assert_eq!(added.len(), 2);
        assert_eq!(store.refs[Kind::Certs as usize].len(), 2);
    }
}
