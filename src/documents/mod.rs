//! Issuing documents (cấp văn bản): civil-status extracts and certified electronic copies, each
//! numbered in its book, signed by the official, sealed by the commune's agency certificate,
//! recorded with a lookup code, and kept in a blob store.
//!
//! All-or-nothing: the signatures' log lines, the stored file (database store) and the record
//! are written in one transaction, which also takes the document's number out of the void ones
//! (it was reserved before rendering, see `numbering`). A file-store blob is written inside it
//! too and removed again if the transaction fails; a crash between the two leaves at most an
//! orphan file that no record points to, never a record without its file.

pub mod archive;
pub mod copies;
pub mod extracts;
pub mod numbering;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use secrecy::SecretString;
use serde::Deserialize;

use crate::blobs;
use crate::clients::{Client, Role};
use crate::config::Settings;
use crate::db::models::{Commune, Document, Signer};
use crate::db::schema::{documents, signers as signer_table, signing_log};
use crate::db::{self, DbConnection, Pool};
use crate::error::{Error, FieldError, Result};
use crate::pdf::{certify, read};
use crate::pki::cms::sha256;
use crate::signers;
use crate::signing::{Level, Placement, SignOptions, Signing, Unlocked};
use crate::signing_sessions::{Certified, Handout, PendingDocument, Sessions};
use crate::vietnam::{self, vietnam_time};

/// What kyso issues; each kind has its own numbering book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Birth,
    Marriage,
    Death,
    MaritalStatus,
    CertifiedCopy,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Birth,
        Kind::Marriage,
        Kind::Death,
        Kind::MaritalStatus,
        Kind::CertifiedCopy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Birth => "birth",
            Kind::Marriage => "marriage",
            Kind::Death => "death",
            Kind::MaritalStatus => "marital_status",
            Kind::CertifiedCopy => "certified_copy",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The document's name in Vietnamese, as on its title.
    pub fn name_vi(self) -> &'static str {
        match self {
            Kind::Birth => "Trích lục khai sinh",
            Kind::Marriage => "Trích lục kết hôn",
            Kind::Death => "Trích lục khai tử",
            Kind::MaritalStatus => "Giấy xác nhận tình trạng hôn nhân",
            Kind::CertifiedCopy => "Bản sao điện tử chứng thực từ bản chính",
        }
    }
}

/// How the official signs: with the key kyso holds for them (its PIN), or on their own device
/// through a signing session (their registered certificate, PEM or DER).
pub enum OfficialKey {
    Pin(SecretString),
    Certificate(Vec<u8>),
}

/// The part of an issuing request common to every kind.
pub struct IssueRequest {
    pub kind: Kind,
    pub commune: String,
    pub signer: String,
    pub official_key: OfficialKey,
    pub agency_pin: Option<SecretString>,
    /// The PAdES level asked for; by default the best the configuration allows.
    pub level: Option<Level>,
    pub idempotency_key: Option<String>,
    /// Hash of what was asked (PINs left out): a retry with the same key must ask the same.
    pub request_sha256: String,
}

/// What a renderer knows once the number is taken.
pub struct Numbered<'a> {
    pub commune: &'a Commune,
    pub official: &'a Signer,
    pub number: i32,
    pub year: i32,
    pub number_label: String,
    pub book_label: String,
    pub lookup_code: String,
    pub lookup_url: String,
    pub time: DateTime<FixedOffset>,
}

/// A rendered, unsigned document, where the official signs it and where the agency does.
pub struct Unsigned {
    pub pdf: Vec<u8>,
    pub signature: Placement,
    /// How the agency signs: shown as text (agency and time) as Decree 30/2020 shows it on
    /// copies and digitised documents: on kyso's own forms at the top right of the first
    /// page, in the top margin above the motto ([`top_right`]); on a certified copy in the
    /// area its statement keeps for it, never over the scan.
    pub agency: Placement,
}

/// The agency's place on kyso's own forms: the top right of the first page whose box is
/// `page_box`.
pub fn top_right(page_box: [f32; 4]) -> Placement {
    let [x0, _, x1, y1] = page_box;
    let right = x1.min(x0 + 595.0) - 20.0;
    Placement {
        page: 1,
        rect: [right - 190.0, y1 - 50.0, right, y1 - 12.0],
    }
}

/// The result of an issuing request: the document, and whether this request created it (false:
/// an idempotent retry).
pub struct Issued {
    pub document: Document,
    pub created: bool,
}

/// What an issuing request answers: the document, or — when the official signs on their own
/// device — its number and the signing session that finishes it.
pub enum Issuance {
    Issued(Box<Issued>),
    Session {
        handout: Handout,
        number_label: String,
        book_label: String,
    },
}

pub struct Issuer<'a> {
    pub signing: Signing<'a>,
    pub sessions: Sessions<'a>,
    pub pool: &'a Pool,
    pub settings: &'a Settings,
}

impl Issuer<'_> {
    /// Checks, unlocks both keys, reads the caller's `input` (only now: parsing and decoding
    /// uploads is work a key without the rights or the PIN must not cause), reserves a number,
    /// renders, signs and seals, then in one transaction: store, record.
    pub fn issue<I>(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        req: &IssueRequest,
        input: impl FnOnce() -> Result<I>,
        labels: impl Fn(i32, i32) -> (String, String),
        render: impl Fn(&Numbered<'_>, &I) -> Result<Unsigned>,
    ) -> Result<Issuance> {
        client.ensure_may_sign()?;
        if let Some(existing) = self.retried(conn, client, req)? {
            return Ok(Issuance::Issued(Box::new(existing)));
        }
        let commune = signers::commune(conn, &req.commune)?;
        if !client.may_act_for(&commune.code) {
            return Err(Error::Forbidden(format!(
                "this key may not issue documents for commune `{}`",
                commune.code
            )));
        }
        let signer = signers::find(conn, &req.signer)?;
        // Another commune's signer is answered like an unknown one: ids do not leak.
        if signer.commune_code != commune.code {
            return Err(Error::UnknownSigner(req.signer.clone()));
        }
        if signer.kind != "official" {
            return Err(Error::ValidationFailed(vec![FieldError {
                field: "signer".into(),
                message: format!("must be an official of commune {}", commune.code),
            }]));
        }
        let pin = match &req.official_key {
            OfficialKey::Pin(pin) => pin,
            OfficialKey::Certificate(certificate) => {
                let certified = self.sessions.certified(conn, client, certificate)?;
                if certified.holder.commune_code != commune.code
                    || certified.holder.kind != "person"
                {
                    return Err(Error::ValidationFailed(vec![FieldError {
                        field: "certificate".into(),
                        message: format!(
                            "must be registered to an official of commune {}",
                            commune.code
                        ),
                    }]));
                }
                return self.issue_in_session(
                    conn, client, req, &commune, &signer, &certified, input, labels, render,
                );
            }
        };
        let official = self.signing.unlock(conn, Some(client), &signer, pin)?;
        let agency = req
            .agency_pin
            .as_ref()
            .map(|pin| self.unlock_agency(conn, client, &commune.code, pin))
            .transpose()?;
        let input = input()?;

        let level = req
            .level
            .unwrap_or_else(|| self.signing.best_level(&official.signer));
        // The last signature brings the whole file to the level: an archive timestamp and
        // validation data once, not after each signature.
        let official_level = match &agency {
            Some(_) => level.without_validation_data(),
            None => level,
        };
        let time = vietnam_time(Utc::now());
        let year = time.year();
        // Only the number is taken under the book's lock; rendering, signing and timestamping
        // run outside it. A failure from here on leaves the number void in its book.
        let (book, number) =
            numbering::reserve(conn, &commune.code, req.kind.as_str(), year, |n| {
                labels(n, year).0
            })?;
        let store = blobs::from_settings(self.settings);
        let blob_key = uuid::Uuid::new_v4().to_string();
        let mut issue = || {
            let (number_label, book_label) = labels(number, year);
            let lookup_code = lookup_code()?;
            let numbered = Numbered {
                commune: &commune,
                official: &official.signer,
                number,
                year,
                number_label,
                book_label,
                lookup_url: self.lookup_url(&lookup_code),
                lookup_code,
                time,
            };
            let drawn = render(&numbered, &input)?;
            let reason = format!("{} số {}", req.kind.name_vi(), numbered.number_label);
            let signature = SignOptions {
                reason: Some(&reason),
                location: Some(&commune.name),
                level: official_level,
                visible: Some(drawn.signature),
                commune: Some(&commune.name),
            };
            let seal = Self::seal_options(drawn.agency, &reason, &commune, level);
            let mut signers = vec![(&official, &signature)];
            if let Some(agency) = &agency {
                signers.push((agency, &seal));
            }
            let (pdf, lines) = self
                .signing
                .signatures(conn, Some(client), &signers, &drawn.pdf)?;
            // The last signature's line holds the SHA-256 of the document as issued.
            let digest = lines
                .last()
                .map(|line| line.output_sha256.clone())
                .ok_or_else(|| Error::internal("no signature made"))?;
            let document = Document {
                id: uuid::Uuid::new_v4().to_string(),
                kind: req.kind.as_str().into(),
                commune_code: commune.code.clone(),
                book_id: book.clone(),
                year,
                number,
                number_label: numbered.number_label,
                book_label: numbered.book_label,
                lookup_code: numbered.lookup_code,
                official_id: official.signer.id.clone(),
                agency_id: agency.as_ref().map(|a| a.signer.id.clone()),
                state: if agency.is_some() {
                    "sealed"
                } else {
                    "signed_official"
                }
                .into(),
                sha256: digest,
                size: pdf.len() as i64,
                blob_key: blob_key.clone(),
                client_id: Some(client.id.clone()),
                idempotency_key: req.idempotency_key.clone(),
                request_sha256: req.request_sha256.clone(),
                created_at: db::timestamp(time.to_utc()),
                sealed_at: agency.as_ref().map(|_| db::timestamp(time.to_utc())),
                // A B-B document carries no timestamp: nothing to read back.
                archive_expires_at: match level {
                    Level::BB => None,
                    _ => archive::expiry(&pdf, &self.settings.pdf)?,
                },
            };
            conn.transaction(|conn| {
                store.put(conn, &blob_key, &pdf)?;
                db::native!(conn, |c| diesel::insert_into(signing_log::table)
                    .values(&lines)
                    .execute(c))?;
                numbering::fill(conn, &book, number)?;
                diesel::insert_into(documents::table)
                    .values(&document)
                    .execute(conn)?;
                Ok::<_, Error>(document)
            })
        };
        let result = issue();

        match result {
            Ok(document) => {
                tracing::info!(id = %document.id, kind = %document.kind, number = %document.number_label, "document issued");
                Ok(Issuance::Issued(Box::new(Issued {
                    document,
                    created: true,
                })))
            }
            Err(e) => {
                let _ = store.delete(conn, &blob_key);
                // A concurrent retry with the same key committed first: answer with its document.
                if let Error::Database(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _,
                )) = &e
                {
                    if let Some(existing) = self.retried(conn, client, req)? {
                        return Ok(Issuance::Issued(Box::new(existing)));
                    }
                }
                Err(e)
            }
        }
    }

    /// The official signs on their own device: in one transaction the number is taken, the
    /// document rendered and prepared, and the session recorded; the document itself is
    /// recorded when the session finishes (or its number voided when it expires).
    #[allow(clippy::too_many_arguments)]
    fn issue_in_session<I>(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        req: &IssueRequest,
        commune: &Commune,
        signer: &Signer,
        certified: &Certified,
        input: impl FnOnce() -> Result<I>,
        labels: impl Fn(i32, i32) -> (String, String),
        render: impl Fn(&Numbered<'_>, &I) -> Result<Unsigned>,
    ) -> Result<Issuance> {
        if req.agency_pin.is_some() {
            return Err(Error::ValidationFailed(vec![FieldError {
                field: "agency_pin".into(),
                message: "the agency seals once the official's session is finished (POST /api/v1/documents/{id}/seal)".into(),
            }]));
        }
        let input = input()?;
        let time = vietnam_time(Utc::now());
        let year = time.year();
        let book = numbering::ensure_book(conn, &commune.code, req.kind.as_str(), year)?;
        conn.transaction(|conn| {
            let number = numbering::take(conn, &book)?;
            let (number_label, book_label) = labels(number, year);
            let lookup_code = lookup_code()?;
            let numbered = Numbered {
                commune,
                official: signer,
                number,
                year,
                number_label,
                book_label,
                lookup_url: self.lookup_url(&lookup_code),
                lookup_code,
                time,
            };
            let drawn = render(&numbered, &input)?;
            let reason = format!("{} số {}", req.kind.name_vi(), numbered.number_label);
            let handout = self.sessions.open(
                conn,
                client,
                certified,
                &drawn.pdf,
                &SignOptions {
                    reason: Some(&reason),
                    location: Some(&commune.name),
                    // The agency's seal, later, brings the file to the level.
                    level: req
                        .level
                        .unwrap_or_else(|| self.signing.best_level(signer))
                        .without_validation_data(),
                    visible: Some(drawn.signature),
                    commune: Some(&commune.name),
                },
                Some(PendingDocument {
                    kind: req.kind.as_str().into(),
                    book_id: book.clone(),
                    number,
                    number_label: numbered.number_label.clone(),
                    book_label: numbered.book_label.clone(),
                    lookup_code: numbered.lookup_code.clone(),
                    signer_id: signer.id.clone(),
                    request_sha256: req.request_sha256.clone(),
                }),
            )?;
            Ok(Issuance::Session {
                handout,
                number_label: numbered.number_label,
                book_label: numbered.book_label,
            })
        })
    }

    /// The document an earlier request with the same idempotency key created, if any.
    fn retried(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        req: &IssueRequest,
    ) -> Result<Option<Issued>> {
        let Some(key) = &req.idempotency_key else {
            return Ok(None);
        };
        let existing = documents::table
            .filter(documents::client_id.eq(&client.id))
            .filter(documents::idempotency_key.eq(key))
            .select(Document::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(document) if document.request_sha256 == req.request_sha256 => Ok(Some(Issued {
                document,
                created: false,
            })),
            Some(_) => Err(Error::Conflict(
                "this Idempotency-Key was used for a different request".into(),
            )),
            None => Ok(None),
        }
    }

    fn unlock_agency(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        commune: &str,
        pin: &SecretString,
    ) -> Result<Unlocked> {
        let agency = signer_table::table
            .filter(signer_table::commune_code.eq(commune))
            .filter(signer_table::kind.eq("agency"))
            .select(Signer::as_select())
            .order(signer_table::id)
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                Error::NotFound(format!("an agency certificate for commune `{commune}`"))
            })?;
        self.signing.unlock(conn, Some(client), &agency, pin)
    }

    /// Where the agency's signature is on a document already made (sealed later): read back
    /// from the file, as the renderer placed it (`Unsigned::agency`).
    fn agency_placement(&self, kind: Kind, pdf: &[u8]) -> Result<Placement> {
        if kind == Kind::CertifiedCopy {
            let (page, rect) = certify::agency_area(pdf, &self.settings.pdf)?;
            return Ok(Placement { page, rect });
        }
        Ok(top_right(certify::page_box(
            &read::writable(pdf, &self.settings.pdf)?,
            1,
        )?))
    }

    fn seal_options<'r>(
        agency: Placement,
        reason: &'r str,
        commune: &'r Commune,
        level: Level,
    ) -> SignOptions<'r> {
        SignOptions {
            reason: Some(reason),
            location: Some(&commune.name),
            level,
            visible: Some(agency),
            commune: Some(&commune.name),
        }
    }

    /// The agency's signature added later by the clerk (`POST /documents/{id}/seal`).
    pub fn seal(&self, client: &Client, id: &str, pin: &SecretString) -> Result<Document> {
        client.ensure_may_sign()?;
        let mut conn = db::get(self.pool)?;
        let document = find(&mut conn, id)?;
        if !client.may_act_for(&document.commune_code) {
            return Err(Error::Forbidden(
                "the document belongs to another commune".into(),
            ));
        }
        if document.state != "signed_official" {
            return Err(Error::Conflict("the document is already sealed".into()));
        }
        let agency = self.unlock_agency(&mut conn, client, &document.commune_code, pin)?;
        let commune = signers::commune(&mut conn, &document.commune_code)?;
        let store = blobs::from_settings(self.settings);
        let blob_key = uuid::Uuid::new_v4().to_string();
        let result = conn.transaction(|conn| {
            // First statement: claims the document (and its row lock) so two clerks cannot both
            // seal it.
            let claimed = diesel::update(
                documents::table
                    .find(id)
                    .filter(documents::state.eq("signed_official")),
            )
            .set(documents::state.eq("sealed"))
            .execute(conn)?;
            if claimed != 1 {
                return Err(Error::Conflict("the document is already sealed".into()));
            }
            let pdf = store.get(conn, &document.blob_key)?;
            let kind = Kind::parse(&document.kind)
                .ok_or_else(|| Error::internal(format!("stored kind `{}`", document.kind)))?;
            let reason = format!("{} số {}", kind.name_vi(), document.number_label);
            let options = Self::seal_options(
                self.agency_placement(kind, &pdf)?,
                &reason,
                &commune,
                self.signing.best_level(&agency.signer),
            );
            let sealed = self
                .signing
                .sign_unlocked(conn, Some(client), &agency, &pdf, &options)?;
            store.put(conn, &blob_key, &sealed)?;
            diesel::update(documents::table.find(id))
                .set((
                    documents::agency_id.eq(Some(&agency.signer.id)),
                    documents::sha256.eq(hex::encode(sha256(&sealed)?)),
                    documents::size.eq(sealed.len() as i64),
                    documents::blob_key.eq(&blob_key),
                    documents::sealed_at.eq(Some(db::now())),
                    documents::archive_expires_at.eq(archive::expiry(&sealed, &self.settings.pdf)?),
                ))
                .execute(conn)?;
            Ok::<_, Error>(())
        });
        match result {
            Ok(()) => {
                // The old unsealed file is no longer referenced.
                let _ = store.delete(&mut conn, &document.blob_key);
                tracing::info!(id, "document sealed");
                find(&mut conn, id)
            }
            Err(e) => {
                let _ = store.delete(&mut conn, &blob_key);
                Err(e)
            }
        }
    }

    fn lookup_url(&self, code: &str) -> String {
        format!(
            "{}/d/{code}",
            self.settings.public_base_url.trim_end_matches('/')
        )
    }

    /// The stored PDF of a document.
    pub fn pdf(&self, conn: &mut DbConnection, document: &Document) -> Result<Vec<u8>> {
        blobs::from_settings(self.settings).get(conn, &document.blob_key)
    }
}

/// Ten characters of Crockford base32 (no I, L, O, U): 50 random bits, easy to type from paper.
fn lookup_code() -> Result<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 10];
    openssl::rand::rand_bytes(&mut bytes).map_err(Error::internal)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Document> {
    documents::table
        .find(id)
        .select(Document::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("document `{id}`")))
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Document> {
    documents::table
        .filter(documents::lookup_code.eq(code.trim().to_ascii_uppercase()))
        .select(Document::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("document with lookup code `{code}`")))
}

/// Who may read a document: admins all, a portal its own commune's. Issued documents carry
/// personal data, so a viewer key (roll-out statistics only) reads none.
pub fn may_read(client: &Client, commune: &str) -> bool {
    client.may_act_for(commune)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub commune: Option<String>,
    pub kind: Option<String>,
    /// First and last day (Vietnam time), `YYYY-MM-DD`, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Newest first, at most `LIST_LIMIT`.
pub fn list(conn: &mut DbConnection, client: &Client, q: &ListQuery) -> Result<Vec<Document>> {
    const LIST_LIMIT: i64 = 500;
    crate::rollout::ensure_not_viewer(client)?;
    let mut query = documents::table.into_boxed();
    match (&q.commune, client.role) {
        (Some(commune), _) if !may_read(client, commune) => {
            return Err(Error::Forbidden("documents of another commune".into()))
        }
        (Some(commune), _) => query = query.filter(documents::commune_code.eq(commune.clone())),
        (None, Role::Portal) => {
            query =
                query.filter(documents::commune_code.eq(client.commune.clone().unwrap_or_default()))
        }
        (None, _) => {}
    }
    if let Some(kind) = &q.kind {
        let kind = Kind::parse(kind)
            .ok_or_else(|| Error::bad_request(format!("unknown document kind `{kind}`")))?;
        query = query.filter(documents::kind.eq(kind.as_str()));
    }
    let start_of = |day: NaiveDate| -> Result<String> {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(vietnam::OFFSET).single())
            .map(|t| db::timestamp(t.to_utc()))
            .ok_or_else(|| Error::bad_request(format!("invalid day {day}")))
    };
    if let Some(from) = q.from {
        query = query.filter(documents::created_at.ge(start_of(from)?));
    }
    if let Some(to) = q.to {
        let next = to
            .succ_opt()
            .ok_or_else(|| Error::bad_request(format!("invalid day {to}")))?;
        query = query.filter(documents::created_at.lt(start_of(next)?));
    }
    Ok(query
        .order((documents::created_at.desc(), documents::number.desc()))
        .limit(LIST_LIMIT)
        .select(Document::as_select())
        .load(conn)?)
}

/// `Phường Thành Đông` → `Thành Đông`, for the place-and-date line.
pub fn place_name(commune: &Commune) -> String {
    let kind_len = commune.kind.chars().count();
    let prefix: String = commune.name.chars().take(kind_len).collect();
    if prefix.to_lowercase() == commune.kind.to_lowercase() {
        commune
            .name
            .chars()
            .skip(kind_len)
            .collect::<String>()
            .trim()
            .to_owned()
    } else {
        commune.name.clone()
    }
}

/// `UBND PHƯỜNG THÀNH ĐÔNG`.
pub fn authority(commune: &Commune) -> String {
    format!("UBND {}", commune.name.to_uppercase())
}

/// `Thành Đông, ngày 25 tháng 11 năm 2026`.
pub fn place_date(commune: &Commune, time: &DateTime<FixedOffset>) -> String {
    format!(
        "{}, {}",
        place_name(commune),
        vietnam::date_in_text(time.date_naive())
    )
}
