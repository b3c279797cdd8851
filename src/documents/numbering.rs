//! Numbering books (sổ): per commune, kind of document and year, numbers 1, 2, 3, … with no gap
//! and no reuse.
//!
//! A number is reserved in a short transaction of its own (`reserve`): an `UPDATE` of the book's
//! row (the row lock on PostgreSQL, the write lock on SQLite) and a void entry for it in
//! `void_numbers`. Rendering, signing and timestamping then run outside any lock, and the
//! transaction that records the document removes the void entry (`fill`). A number whose
//! issuance fails, or is cut short by a crash, stays void in its book with the reason, so the
//! book is gap-free without reuse and concurrent issuers of one book wait only for each
//! other's reservation (see benches/documents.rs).
//!
//! When the official signs on their own device, the number is taken when the signing session
//! opens (it is printed on the page they sign); a session that expires leaves it in the book
//! as void with the reason (`void_numbers`) in the same way.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use serde::Serialize;

use crate::clients::Client;
use crate::db::models::{NumberingBook, VoidNumber};
use crate::db::schema::{documents, numbering_books, signing_sessions, void_numbers};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};

pub fn book_id(commune: &str, kind: &str, year: i32) -> String {
    format!("{commune}/{kind}/{year}")
}

/// Makes sure the book exists, outside the reserving transaction (so that transaction's first
/// statement can be the locking `UPDATE`). Two first issuers racing: one insert wins, the
/// other's unique violation is harmless.
pub fn ensure_book(
    conn: &mut DbConnection,
    commune: &str,
    kind: &str,
    year: i32,
) -> Result<String> {
    let id = book_id(commune, kind, year);
    let exists = numbering_books::table
        .find(&id)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        let inserted = diesel::insert_into(numbering_books::table)
            .values(&NumberingBook {
                id: id.clone(),
                commune_code: commune.to_owned(),
                kind: kind.to_owned(),
                year,
                next_number: 1,
                created_at: db::now(),
            })
            .execute(conn);
        match inserted {
            Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(id)
}

/// Why a reserved number is void until its document is recorded: shown only if it never is.
const NOT_RECORDED: &str =
    "Cấp văn bản không hoàn tất / the issuance did not complete (it failed or was interrupted)";

/// Reserves the next number of the book of `commune`, `kind` and `year` (opened on its first
/// number) for an issuance that runs outside the book's lock: the book's id and the number,
/// which stays void in the book unless `fill` records its document. `label` writes the number
/// as printed.
pub fn reserve(
    conn: &mut DbConnection,
    commune: &str,
    kind: &str,
    year: i32,
    label: impl Fn(i32) -> String,
) -> Result<(String, i32)> {
    let book = book_id(commune, kind, year);
    // Tried first: a book is missing only for the first issuance of its commune, kind and year.
    if let Some(number) = try_reserve(conn, &book, &label)? {
        return Ok((book, number));
    }
    ensure_book(conn, commune, kind, year)?;
    let number = try_reserve(conn, &book, &label)?.ok_or_else(|| missing(&book))?;
    Ok((book, number))
}

/// The reservation, `None` if the book does not exist.
///
/// It holds the book's row lock until it commits, and every issuance in the book waits for
/// that lock: so it commits without waiting for the disk (`db::relax_commit`). A crash may
/// lose it, but only with everything that depends on it: the document that fills the number
/// commits durably, which makes the reservation durable too, and a reservation lost is no gap,
/// as the book's counter goes back with it.
fn try_reserve(
    conn: &mut DbConnection,
    book: &str,
    label: impl Fn(i32) -> String,
) -> Result<Option<i32>> {
    conn.transaction(|conn| {
        db::relax_commit(conn)?;
        let Some(number) = next(conn, book)? else {
            return Ok(None);
        };
        diesel::insert_into(void_numbers::table)
            .values(&VoidNumber {
                book_id: book.to_owned(),
                number,
                number_label: label(number),
                reason: NOT_RECORDED.into(),
                session_id: None,
                created_at: db::now(),
            })
            .execute(conn)?;
        Ok(Some(number))
    })
}

/// The document of a reserved number is being recorded (in the caller's transaction): the number
/// is no longer void.
pub fn fill(conn: &mut DbConnection, book: &str, number: i32) -> Result<()> {
    let removed = diesel::delete(void_numbers::table.find((book, number))).execute(conn)?;
    if removed != 1 {
        return Err(Error::internal(format!(
            "number {number} of book `{book}` was not reserved"
        )));
    }
    Ok(())
}

/// Takes the book's next number. Must be the first statement of its transaction. One
/// statement, so the book's lock is held for no round trip more than the update's own.
pub fn take(conn: &mut DbConnection, book: &str) -> Result<i32> {
    next(conn, book)?.ok_or_else(|| missing(book))
}

/// `take`, `None` if the book does not exist.
fn next(conn: &mut DbConnection, book: &str) -> Result<Option<i32>> {
    let next: Option<i32> =
        db::native!(conn, |c| diesel::update(numbering_books::table.find(book))
            .set(numbering_books::next_number.eq(numbering_books::next_number + 1))
            .returning(numbering_books::next_number)
            .get_result(c)
            .optional())?;
    Ok(next.map(|next| next - 1))
}

fn missing(book: &str) -> Error {
    Error::internal(format!("numbering book `{book}` is missing"))
}

/// One number of a book as its listing shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub number: i32,
    /// `issued`, `void` (taken for a document never issued, with the reason) or `pending` (its
    /// signing session is still open).
    pub state: &'static str,
    pub number_label: String,
    pub document: Option<String>,
    pub reason: Option<String>,
    pub signing_session: Option<String>,
}

/// A numbering book with every number taken from it, in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing {
    pub id: String,
    pub commune: String,
    pub kind: String,
    pub year: i32,
    pub next_number: i32,
    pub entries: Vec<Entry>,
}

/// The book of `commune`, `kind` and `year` (`GET /api/v1/numbering-books/{commune}/{kind}/
/// {year}`). Sessions past their time are closed first, so a number never shows as pending
/// when it can no longer be issued.
pub fn listing(
    conn: &mut DbConnection,
    client: &Client,
    commune: &str,
    kind: &str,
    year: i32,
) -> Result<Listing> {
    crate::rollout::ensure_not_viewer(client)?;
    let id = book_id(commune, kind, year);
    let unknown = || Error::NotFound(format!("numbering book `{id}`"));
    if !client.may_act_for(commune) {
        return Err(unknown());
    }
    crate::signing_sessions::expire_due(conn)?;
    let book = numbering_books::table
        .find(&id)
        .select(NumberingBook::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(unknown)?;
    let mut entries: Vec<Entry> = documents::table
        .filter(documents::book_id.eq(&id))
        .select((documents::number, documents::number_label, documents::id))
        .load::<(i32, String, String)>(conn)?
        .into_iter()
        .map(|(number, number_label, document)| Entry {
            number,
            state: "issued",
            number_label,
            document: Some(document),
            reason: None,
            signing_session: None,
        })
        .collect();
    entries.extend(
        void_numbers::table
            .filter(void_numbers::book_id.eq(&id))
            .select(VoidNumber::as_select())
            .load(conn)?
            .into_iter()
            .map(|void| Entry {
                number: void.number,
                state: "void",
                number_label: void.number_label,
                document: None,
                reason: Some(void.reason),
                signing_session: void.session_id,
            }),
    );
    entries.extend(
        signing_sessions::table
            .filter(signing_sessions::book_id.eq(&id))
            .filter(signing_sessions::state.eq("open"))
            .select((
                signing_sessions::number,
                signing_sessions::number_label,
                signing_sessions::id,
            ))
            .load::<(Option<i32>, Option<String>, String)>(conn)?
            .into_iter()
            .map(|(number, number_label, session)| Entry {
                number: number.unwrap_or_default(),
                state: "pending",
                number_label: number_label.unwrap_or_default(),
                document: None,
                reason: None,
                signing_session: Some(session),
            }),
    );
    entries.sort_by_key(|e| e.number);
    Ok(Listing {
        id: book.id,
        commune: book.commune_code,
        kind: book.kind,
        year: book.year,
        next_number: book.next_number,
        entries,
    })
}
