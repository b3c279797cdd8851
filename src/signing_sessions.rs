//! Two-step signing (ký hai bước) for keys kyso never sees: an official's USB token signing
//! through the office's desktop plugin, a remote-signing service approved on a phone, an HSM
//! behind another system. kyso prepares the signing update and hands out the CMS signed
//! attributes (`to_sign`); the holder's device signs them; kyso checks the value against the
//! registered certificate and embeds it. A desktop tool may instead take the unsigned PDF and
//! bring back the whole signed file.
//!
//! A session lives in the database, so any instance sharing it can finish it; it is used once
//! and expires. An issued document's number is taken when its session opens (it is printed on
//! the page that is signed); if the session expires, the number stays in its book as void.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::blobs::BlobStore;
use crate::clients::{Client, Role};
use crate::db::models::{
    Certificate, Document, Official, SigningLogEntry, SigningSession, VoidNumber,
};
use crate::db::schema::{documents, numbering_books, signing_log, signing_sessions, void_numbers};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pdf::sign::{self, Appearance, Prepared, SignatureSpec};
use crate::pdf::verify::{self, cms as verify_cms, report::Indication};
use crate::pki;
use crate::pki::algorithms::{self, Digest};
use crate::pki::cms::{self, sha256, Unsigned};
use crate::rollout::{audit, certificates, officials, Position};
use crate::signing::{appearance_lines, Level, SignOptions, Signing};
use crate::vietnam::{self, vietnam_time};

/// A registered certificate that may sign now, with its holder and the chain above it.
pub struct Certified {
    pub row: Certificate,
    pub holder: Official,
    pub cert: pki::Certificate,
    pub chain: Vec<pki::Certificate>,
}

/// What the holder's device is asked to sign (the `201` of `POST /signing-sessions`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Handout {
    pub id: String,
    /// DER of the signed attributes (a SET OF), base64 in JSON.
    #[serde(serialize_with = "base64")]
    #[schema(value_type = String, format = Byte)]
    pub to_sign: Vec<u8>,
    /// SHA-256 of `to_sign`: what a sign-hash service (CSC `signatures/signHash`) signs.
    #[serde(serialize_with = "base64")]
    #[schema(value_type = String, format = Byte)]
    pub digest: Vec<u8>,
    pub digest_algorithm: &'static str,
    pub signature_algorithm: &'static str,
    pub expires_at: String,
}

fn base64<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    use base64::Engine;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// What comes back from the holder's side.
pub enum Returned {
    /// The raw signature value over `to_sign` (ECDSA as DER or as `r||s`).
    Signature(Vec<u8>),
    /// A whole CMS SignedData a service assembled itself.
    Cms(Vec<u8>),
    /// The whole PDF a desktop tool signed.
    SignedPdf(Vec<u8>),
}

/// A document waiting in a session for its official's signature; its number is taken.
pub struct PendingDocument {
    pub kind: String,
    pub book_id: String,
    pub number: i32,
    pub number_label: String,
    pub book_label: String,
    pub lookup_code: String,
    /// The signer (official) the document names.
    pub signer_id: String,
    pub request_sha256: String,
}

/// What a finished session produced.
pub struct Finished {
    pub pdf: Vec<u8>,
    pub document: Option<Document>,
}

/// Two-step signing on the running service.
pub struct Sessions<'a> {
    pub signing: Signing<'a>,
    pub lifetime: Duration,
    /// Where a finished document's PDF is kept.
    pub store: Box<dyn BlobStore>,
}

const OPEN: &str = "open";
const FINISHED: &str = "finished";
const EXPIRED: &str = "expired";

impl Sessions<'_> {
    /// The uploaded certificate (PEM or DER) if it may sign for `client` now: registered in
    /// the roll-out registry to an official or agency of a commune the client acts for, valid
    /// and not revoked (by the registry or a CRL). A certificate of another commune is
    /// answered like an unregistered one.
    pub fn certified(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        bytes: &[u8],
    ) -> Result<Certified> {
        if client.role == Role::Viewer {
            return Err(Error::Forbidden("a viewer key does not sign".into()));
        }
        let parsed = certificates::parse(bytes)?;
        let unregistered = || {
            Error::CertificateNotRegistered(
                "register it to its holder (POST /api/v1/certificates) first".into(),
            )
        };
        let row =
            certificates::by_fingerprint(conn, &parsed.fingerprint)?.ok_or_else(unregistered)?;
        let holder = officials::get(conn, &row.official_id)?;
        if !client.may_act_for(&holder.commune_code) {
            return Err(unregistered());
        }
        let now = Utc::now();
        let cert = stored(&row)?;
        if row.revoked_at.is_some()
            || self
                .signing
                .revocation
                .files
                .revocation_time(&cert)
                .is_some()
        {
            return Err(Error::CertificateRevoked);
        }
        if !row.is_valid_at(now) {
            return Err(Error::CertificateNotValid(format!(
                "it is valid from {} until {}",
                row.not_before, row.not_after
            )));
        }
        let chain = self.chain_above(&cert);
        Ok(Certified {
            row,
            holder,
            cert,
            chain,
        })
    }

    /// Prepares `pdf` for `certified`'s signature and records the session on `conn` (inside
    /// the caller's transaction when a document's number was taken for it).
    pub fn open(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        certified: &Certified,
        pdf: &[u8],
        options: &SignOptions<'_>,
        document: Option<PendingDocument>,
    ) -> Result<Handout> {
        let timestamper = self.signing.timestamper(options.level)?;
        let now = Utc::now();
        let time = vietnam_time(now);
        let holder = &certified.holder;
        let commune = options.commune_name(conn, &holder.commune_code)?;
        let title = (holder.kind == "person").then(|| Position::label_of(&holder.position));
        let spec = SignatureSpec {
            time,
            reason: options.reason,
            location: options.location,
            appearance: options.visible.map(|p| Appearance {
                page: p.page,
                rect: p.rect,
                lines: appearance_lines(&holder.name, title, &commune, &time),
            }),
            timestamper,
        };
        let (prepared, unsigned) = sign::prepare(
            pdf,
            &spec,
            &certified.cert,
            &certified.chain,
            &self.signing.limits,
        )?;
        let to_sign = unsigned.to_sign()?;
        let expires = now + self.lifetime;
        let row = SigningSession {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: client.id.clone(),
            commune_code: holder.commune_code.clone(),
            certificate_id: certified.row.id.clone(),
            level: options.level.as_str().into(),
            state: OPEN.into(),
            original_len: pdf.len() as i64,
            contents_start: prepared.contents.start as i64,
            contents_end: prepared.contents.end as i64,
            prepared_pdf: prepared.pdf,
            to_sign: to_sign.clone(),
            created_at: db::timestamp(now),
            expires_at: db::timestamp(expires),
            finished_at: None,
            document_kind: document.as_ref().map(|d| d.kind.clone()),
            book_id: document.as_ref().map(|d| d.book_id.clone()),
            number: document.as_ref().map(|d| d.number),
            number_label: document.as_ref().map(|d| d.number_label.clone()),
            book_label: document.as_ref().map(|d| d.book_label.clone()),
            lookup_code: document.as_ref().map(|d| d.lookup_code.clone()),
            signer_id: document.as_ref().map(|d| d.signer_id.clone()),
            request_sha256: document.map(|d| d.request_sha256),
            document_id: None,
        };
        diesel::insert_into(signing_sessions::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            &client.id,
            "signing_session.create",
            &row.id,
            None,
            Some(&Summary::of(&row)),
        )?;
        tracing::info!(session = %row.id, certificate = %row.certificate_id, "signing session opened");
        Ok(Handout {
            id: row.id,
            digest: sha256(&to_sign)?,
            to_sign,
            digest_algorithm: "sha256",
            signature_algorithm: signature_algorithm_name(&certified.cert)?,
            expires_at: row.expires_at,
        })
    }

    /// An open session of a commune `client` acts for; an expired one is closed first (its
    /// number voided). Others' sessions are answered as unknown.
    fn open_session(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        id: &str,
    ) -> Result<SigningSession> {
        let session = find(conn, client, id)?;
        match session.state.as_str() {
            FINISHED => Err(Error::SessionUsed),
            EXPIRED => Err(Error::SessionExpired),
            _ if session.expires_at <= db::now() => {
                expire(conn, &session)?;
                Err(Error::SessionExpired)
            }
            _ => Ok(session),
        }
    }

    /// The unsigned PDF a desktop tool signs (`GET …/document`).
    pub fn document(&self, conn: &mut DbConnection, client: &Client, id: &str) -> Result<Vec<u8>> {
        let mut session = self.open_session(conn, client, id)?;
        session.prepared_pdf.truncate(session.original_len as usize);
        Ok(session.prepared_pdf)
    }

    /// Checks what came back, embeds it (with the timestamp and validation data its level
    /// asks for), and records the signature — and the document, if the session issues one —
    /// in one transaction that also closes the session. A refusal writes nothing and leaves
    /// the session open until it expires.
    pub fn finish(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        id: &str,
        returned: Returned,
    ) -> Result<Finished> {
        let session = self.open_session(conn, client, id)?;
        let certificate = certificates_row(conn, &session.certificate_id)?;
        let cert = stored(&certificate)?;
        let level = Level::parse(&session.level)?;
        let original_len = session.original_len as usize;
        let prepared = || {
            Prepared::new(
                session.prepared_pdf.clone(),
                session.contents_start as usize..session.contents_end as usize,
            )
        };
        let timestamper = self.signing.timestamper(level)?;
        let signed = match returned {
            Returned::SignedPdf(pdf) => self.check_signed_pdf(&session, &cert, level, pdf)?,
            Returned::Cms(der) => {
                let prepared = prepared()?;
                let signed_data = check_cms(&prepared, &cert, &der)?;
                sign::finish(prepared, signed_data, timestamper)?
            }
            Returned::Signature(value) => {
                let value = check_signature(&session.to_sign, &cert, &value)?;
                let chain = self.chain_above(&cert);
                let signed_data =
                    Unsigned::detached(&session.to_sign)?.finish(value, &cert, &chain)?;
                sign::finish(prepared()?, signed_data, timestamper)?
            }
        };
        let signed = self.signing.extended(signed, level)?;
        let original = &session.prepared_pdf[..original_len];
        self.record(conn, client, &session, &certificate, original, signed)
    }

    /// The CAs above `cert` up to a trust anchor, the anchor itself left out (validators must
    /// hold it already), as a PKCS#12 file's chain goes into a signature.
    fn chain_above(&self, cert: &pki::Certificate) -> Vec<pki::Certificate> {
        self.signing
            .trust
            .chain(cert, &[], Utc::now())
            .map(|chain| {
                chain
                    .iter()
                    .skip(1)
                    .filter(|c| c.x509().issued(c.x509()) != openssl::x509::X509VerifyResult::OK)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A desktop tool's signed PDF: exactly the bytes handed out, then incremental updates
    /// holding one new signature, by the session's certificate, intact, with nothing after it
    /// (or after any earlier signature) that the change analysis does not allow.
    fn check_signed_pdf(
        &self,
        session: &SigningSession,
        cert: &pki::Certificate,
        level: Level,
        pdf: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let original = &session.prepared_pdf[..session.original_len as usize];
        if pdf.len() <= original.len() || !pdf.starts_with(original) {
            return Err(Error::SignedPdfRejected(
                "it does not begin with exactly the document handed out (GET …/document), followed by incremental updates".into(),
            ));
        }
        let ctx = verify::Context {
            trust: self.signing.trust,
            revocation: self.signing.revocation,
            now: Utc::now(),
            limits: self.signing.limits,
        };
        let before = verify::verify(original, &ctx)?;
        let after = verify::verify(&pdf, &ctx)
            .map_err(|e| Error::SignedPdfRejected(format!("it cannot be read: {e}")))?;
        let new: Vec<_> = after
            .signatures
            .iter()
            .filter(|s| s.kind == "signature")
            .filter(|s| {
                s.coverage
                    .revision
                    .is_some_and(|r| r > before.document.revisions)
            })
            .collect();
        let [signature] = new.as_slice() else {
            return Err(Error::SignedPdfRejected(format!(
                "it must add exactly one signature; it adds {}",
                new.len()
            )));
        };
        let expected = verify_cms::describe(cert);
        let by_session = match (&signature.signer, &expected) {
            (Some(got), Some(want)) => got.serial == want.serial && got.issuer == want.issuer,
            _ => false,
        };
        if !by_session {
            return Err(Error::SignedPdfRejected(format!(
                "the new signature `{}` is not by the session's certificate",
                signature.field
            )));
        }
        if signature.checks.digest != Some(true) || signature.checks.signature != Some(true) {
            return Err(Error::SignedPdfRejected(format!(
                "the new signature `{}` is not intact: {}",
                signature.field,
                signature.problems.join("; ")
            )));
        }
        if signature.indication == Indication::TotalFailed {
            return Err(Error::SignedPdfRejected(format!(
                "the new signature `{}` fails validation: {}",
                signature.field,
                signature.problems.join("; ")
            )));
        }
        if let Some(change) = after
            .signatures
            .iter()
            .flat_map(|s| &s.coverage.later_changes)
            .find(|c| !c.allowed)
        {
            return Err(Error::SignedPdfRejected(format!(
                "a change no signature allows: {} ({})",
                change.what, change.object
            )));
        }
        if level != Level::BB && !signature.timestamp.as_ref().is_some_and(|t| t.valid) {
            return Err(Error::SignedPdfRejected(format!(
                "the session asks for {}: the signature needs a valid signature timestamp",
                level.as_str()
            )));
        }
        Ok(pdf)
    }

    /// Closes the session (only if still open and not expired: the single use), writes the
    /// signing log, the audit entry and the document, all or nothing.
    fn record(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        session: &SigningSession,
        certificate: &Certificate,
        original: &[u8],
        signed: Vec<u8>,
    ) -> Result<Finished> {
        let now = Utc::now();
        let blob_key = uuid::Uuid::new_v4().to_string();
        let result = conn.transaction(|conn| {
            let claimed = diesel::update(
                signing_sessions::table
                    .find(&session.id)
                    .filter(signing_sessions::state.eq(OPEN))
                    .filter(signing_sessions::expires_at.gt(db::timestamp(now))),
            )
            .set((
                signing_sessions::state.eq(FINISHED),
                signing_sessions::finished_at.eq(Some(db::timestamp(now))),
                // The prepared bytes served their purpose; what was signed is in the log.
                signing_sessions::prepared_pdf.eq(Vec::<u8>::new()),
            ))
            .execute(conn)?;
            if claimed != 1 {
                let current = find(conn, client, &session.id)?;
                return Err(if current.state == FINISHED {
                    Error::SessionUsed
                } else {
                    Error::SessionExpired
                });
            }
            let document = match pending(session) {
                Some(pending) => {
                    let document =
                        self.issue(conn, client, session, pending, &blob_key, &signed, now)?;
                    diesel::update(signing_sessions::table.find(&session.id))
                        .set(signing_sessions::document_id.eq(Some(&document.id)))
                        .execute(conn)?;
                    Some(document)
                }
                None => None,
            };
            diesel::insert_into(signing_log::table)
                .values(&SigningLogEntry {
                    id: crate::signing_log::line_id(),
                    signer_id: session.signer_id.clone(),
                    client_id: Some(client.id.clone()),
                    commune_code: session.commune_code.clone(),
                    level: session.level.clone(),
                    input_sha256: hex::encode(sha256(original)?),
                    output_sha256: hex::encode(sha256(&signed)?),
                    created_at: db::timestamp(now),
                    certificate_id: Some(certificate.id.clone()),
                    session_id: Some(session.id.clone()),
                })
                .execute(conn)?;
            let mut summary = Summary::of(session);
            summary.state = FINISHED.into();
            summary.document = document.as_ref().map(|d| d.id.clone());
            audit::record(
                conn,
                &client.id,
                "signing_session.finish",
                &session.id,
                Some(&Summary::of(session)),
                Some(&summary),
            )?;
            Ok::<_, Error>(document)
        });
        match result {
            Ok(document) => {
                tracing::info!(session = %session.id, "signing session finished");
                Ok(Finished {
                    pdf: signed,
                    document,
                })
            }
            Err(e) => {
                let _ = self.store.delete(conn, &blob_key);
                Err(e)
            }
        }
    }

    /// The document a session was opened for, now signed by its official.
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        session: &SigningSession,
        pending: PendingDocument,
        blob_key: &str,
        pdf: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Document> {
        let year: i32 = numbering_books::table
            .find(&pending.book_id)
            .select(numbering_books::year)
            .first(conn)?;
        self.store.put(conn, blob_key, pdf)?;
        let document = Document {
            id: uuid::Uuid::new_v4().to_string(),
            kind: pending.kind,
            commune_code: session.commune_code.clone(),
            book_id: pending.book_id,
            year,
            number: pending.number,
            number_label: pending.number_label,
            book_label: pending.book_label,
            lookup_code: pending.lookup_code,
            official_id: pending.signer_id,
            agency_id: None,
            state: "signed_official".into(),
            // Set when the agency seals and brings the file to its level.
            archive_expires_at: None,
            sha256: hex::encode(sha256(pdf)?),
            size: pdf.len() as i64,
            blob_key: blob_key.to_owned(),
            client_id: Some(client.id.clone()),
            idempotency_key: None,
            request_sha256: pending.request_sha256,
            created_at: db::timestamp(now),
            sealed_at: None,
        };
        diesel::insert_into(documents::table)
            .values(&document)
            .execute(conn)?;
        Ok(document)
    }
}

/// The session's document, if it issues one.
fn pending(session: &SigningSession) -> Option<PendingDocument> {
    Some(PendingDocument {
        kind: session.document_kind.clone()?,
        book_id: session.book_id.clone()?,
        number: session.number?,
        number_label: session.number_label.clone()?,
        book_label: session.book_label.clone()?,
        lookup_code: session.lookup_code.clone()?,
        signer_id: session.signer_id.clone()?,
        request_sha256: session.request_sha256.clone()?,
    })
}

/// What the audit log keeps of a session: never the PDF, never the signature.
#[derive(Serialize)]
struct Summary {
    id: String,
    certificate: String,
    commune: String,
    level: String,
    state: String,
    expires_at: String,
    book: Option<String>,
    number: Option<i32>,
    document: Option<String>,
}

impl Summary {
    fn of(session: &SigningSession) -> Self {
        Summary {
            id: session.id.clone(),
            certificate: session.certificate_id.clone(),
            commune: session.commune_code.clone(),
            level: session.level.clone(),
            state: session.state.clone(),
            expires_at: session.expires_at.clone(),
            book: session.book_id.clone(),
            number: session.number,
            document: session.document_id.clone(),
        }
    }
}

fn find(conn: &mut DbConnection, client: &Client, id: &str) -> Result<SigningSession> {
    signing_sessions::table
        .find(id)
        .select(SigningSession::as_select())
        .first(conn)
        .optional()?
        .filter(|s| client.may_act_for(&s.commune_code))
        .ok_or_else(|| Error::NotFound(format!("signing session `{id}`")))
}

fn certificates_row(conn: &mut DbConnection, id: &str) -> Result<Certificate> {
    use crate::db::schema::certificates;
    Ok(certificates::table
        .find(id)
        .select(Certificate::as_select())
        .first(conn)?)
}

/// Closes an open session past its time; a number it held becomes void in its book. Safe to
/// run from any instance at any time: only the one that flips the state writes the rest.
fn expire(conn: &mut DbConnection, session: &SigningSession) -> Result<()> {
    conn.transaction(|conn| {
        let flipped = diesel::update(
            signing_sessions::table
                .find(&session.id)
                .filter(signing_sessions::state.eq(OPEN)),
        )
        .set((
            signing_sessions::state.eq(EXPIRED),
            signing_sessions::prepared_pdf.eq(Vec::<u8>::new()),
        ))
        .execute(conn)?;
        if flipped != 1 {
            return Ok(());
        }
        if let (Some(book), Some(number), Some(label)) =
            (&session.book_id, session.number, &session.number_label)
        {
            diesel::insert_into(void_numbers::table)
                .values(&VoidNumber {
                    book_id: book.clone(),
                    number,
                    number_label: label.clone(),
                    reason: format!(
                        "Phiên ký {} hết hạn lúc {} mà chưa có chữ ký / the signing session expired unsigned",
                        session.id,
                        vietnam::rfc3339(&session.expires_at)
                    ),
                    session_id: Some(session.id.clone()),
                    created_at: db::now(),
                })
                .execute(conn)?;
        }
        let mut after = Summary::of(session);
        after.state = EXPIRED.into();
        audit::record(
            conn,
            "kyso",
            "signing_session.expire",
            &session.id,
            Some(&Summary::of(session)),
            Some(&after),
        )
    })
}

/// Closes every open session past its time (voiding their numbers). Run before a book is
/// listed, so the listing never shows a number as pending that can no longer be issued.
pub fn expire_due(conn: &mut DbConnection) -> Result<usize> {
    let due: Vec<SigningSession> = signing_sessions::table
        .filter(signing_sessions::state.eq(OPEN))
        .filter(signing_sessions::expires_at.le(db::now()))
        .select(SigningSession::as_select())
        .load(conn)?;
    for session in &due {
        expire(conn, session)?;
    }
    Ok(due.len())
}

/// A registered certificate as stored (PEM).
fn stored(row: &Certificate) -> Result<pki::Certificate> {
    pki::Certificate::from_pem(row.pem.as_bytes())
        .ok_or_else(|| Error::internal(format!("stored certificate {} is not PEM", row.id)))
}

/// `rsa_pkcs1_sha256` or `ecdsa_sha256`: how the device must sign `to_sign`.
fn signature_algorithm_name(certificate: &pki::Certificate) -> Result<&'static str> {
    let algorithm = cms::signature_algorithm(certificate)?;
    Ok(if algorithm.oid == algorithms::RSA_ENCRYPTION {
        "rsa_pkcs1_sha256"
    } else {
        "ecdsa_sha256"
    })
}

/// The raw value over `to_sign`, checked with the certificate's key; an ECDSA value given as
/// `r||s` (what tokens and most signing services return) is turned into DER first. Returns
/// the value as CMS carries it.
fn check_signature(
    to_sign: &[u8],
    certificate: &pki::Certificate,
    value: &[u8],
) -> Result<Vec<u8>> {
    let key = certificate.x509().public_key().map_err(Error::internal)?;
    let algorithm = cms::signature_algorithm(certificate)?;
    let value = if key.id() == openssl::pkey::Id::EC
        && openssl::ecdsa::EcdsaSig::from_der(value).is_err()
    {
        algorithms::plain_ecdsa_to_der(value).map_err(Error::SignatureInvalid)?
    } else {
        value.to_vec()
    };
    let sha256_digest = Digest::by_oid(&algorithms::SHA256).map_err(Error::internal)?;
    let checked = algorithms::verify(&key, &algorithm, sha256_digest, &[to_sign], &value)
        .map_err(Error::SignatureInvalid)?;
    if !checked.valid {
        return Err(Error::SignatureInvalid(
            "the value is not a signature of to_sign by the certificate's key".into(),
        ));
    }
    Ok(value)
}

/// A whole SignedData from a service that assembles its own: one signer, the session's
/// certificate, detached `id-data` content whose messageDigest is the digest of the prepared
/// byte ranges, a signingCertificateV2 naming the certificate, no signingTime (PAdES keeps the
/// claimed time in /M), and a signature value that verifies.
fn check_cms(
    prepared: &Prepared,
    certificate: &pki::Certificate,
    der: &[u8],
) -> Result<::cms::signed_data::SignedData> {
    use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_SIGNING_TIME};
    let invalid = |why: &str| Error::SignatureInvalid(why.to_owned());
    let parsed = verify_cms::parse(der).map_err(Error::SignatureInvalid)?;
    if parsed.signed_data.signer_infos.0.len() != 1 {
        return Err(invalid("the CMS must have exactly one signer"));
    }
    if parsed.signed_data.encap_content_info.econtent_type != ID_DATA
        || parsed.signed_data.encap_content_info.econtent.is_some()
    {
        return Err(invalid("the CMS must be detached, of content type id-data"));
    }
    let cert_der = certificate.der();
    let signer_der = parsed.signer.as_ref().map(|s| s.der());
    if signer_der != Some(cert_der) {
        return Err(invalid(
            "the CMS is not signed by the session's certificate",
        ));
    }
    let attrs = parsed
        .signer_info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| invalid("the CMS has no signed attributes"))?;
    if attrs.iter().any(|a| a.oid == ID_SIGNING_TIME) {
        return Err(invalid(
            "PAdES forbids the signingTime attribute: the claimed time is the PDF's /M",
        ));
    }
    let content_type_is_data = attrs
        .iter()
        .find(|a| a.oid == ID_CONTENT_TYPE)
        .and_then(|a| a.values.get(0))
        .and_then(|v| v.decode_as::<const_oid::ObjectIdentifier>().ok())
        == Some(ID_DATA);
    if !content_type_is_data {
        return Err(invalid("the contentType attribute must be id-data"));
    }
    if parsed
        .digest_matches(&prepared.ranges(), None)
        .map_err(Error::SignatureInvalid)?
        != Some(true)
    {
        return Err(invalid(
            "its messageDigest is not the digest of this session's document",
        ));
    }
    let hashes = cms::signing_certificate_hashes(attrs).map_err(Error::SignatureInvalid)?;
    if !hashes.contains(&sha256(cert_der)?) {
        return Err(invalid(
            "its signingCertificateV2 does not name the session's certificate",
        ));
    }
    let checked = parsed
        .signature_verifies(&prepared.ranges())
        .map_err(Error::SignatureInvalid)?;
    if !checked.valid {
        return Err(invalid("its signature value does not verify"));
    }
    Ok(parsed.signed_data)
}
