//! Numbering books (sổ): per commune, kind of document and year, numbers 1, 2, 3, … with no gap
//! and no reuse.
//!
//! The number is taken by the first statement of the transaction that renders, signs and records
//! the document (`take`): an `UPDATE` of the book's row, which holds the row lock on PostgreSQL
//! and the database write lock on SQLite until commit. Concurrent issuers of the same book queue
//! behind it; if rendering, signing or storing fails, the rollback returns the number. The
//! number is printed in the PDF before signing, so it must be known first and kept only if the
//! whole issuance commits — this is the simplest shape that gives both. The price is that one
//! book issues one document at a time (a few tens of milliseconds each; see benches/documents.rs).

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::models::NumberingBook;
use crate::db::schema::numbering_books;
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};

pub fn book_id(commune: &str, kind: &str, year: i32) -> String {
    format!("{commune}/{kind}/{year}")
}

/// Makes sure the book exists, outside the issuing transaction (so that transaction's first
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

/// Takes the book's next number. Must be the first statement of the issuing transaction.
pub fn take(conn: &mut DbConnection, book: &str) -> Result<i32> {
    let updated = diesel::update(numbering_books::table.find(book))
        .set(numbering_books::next_number.eq(numbering_books::next_number + 1))
        .execute(conn)?;
    if updated != 1 {
        return Err(Error::internal(format!(
            "numbering book `{book}` is missing"
        )));
    }
    let next: i32 = numbering_books::table
        .find(book)
        .select(numbering_books::next_number)
        .first(conn)?;
    Ok(next - 1)
}
