//! Communes (xã, phường, đặc khu): imported and updated from CSV `code,name,kind,province`.
//! An import is all or nothing: any bad row is reported by its line number and nothing is
//! written, so a half-applied file never has to be untangled.

use std::collections::HashSet;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit;
use crate::db::models::Commune;
use crate::db::schema::communes;
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};

/// The commune kinds since the 2025 reform.
pub const KINDS: [&str; 3] = ["xã", "phường", "đặc khu"];

#[derive(Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    kind: String,
    province: String,
}

/// Checks every row, then (only if all are good) creates or updates them in one transaction.
pub fn import_csv(conn: &mut DbConnection, actor: &str, csv: &[u8]) -> Result<ImportReport> {
    let rows = parse(csv)?;
    conn.transaction(|conn| {
        let mut report = ImportReport::default();
        for row in rows {
            let existing = communes::table
                .find(&row.code)
                .select(Commune::as_select())
                .first(conn)
                .optional()?;
            match existing {
                None => {
                    let commune = Commune {
                        code: row.code,
                        name: row.name,
                        kind: row.kind,
                        province: row.province,
                        demo: false,
                        created_at: db::now(),
                    };
                    diesel::insert_into(communes::table)
                        .values(&commune)
                        .execute(conn)
                        .map_err(super::unique_or("this commune"))?;
                    audit::record(
                        conn,
                        actor,
                        "commune.create",
                        &commune.code,
                        None,
                        Some(&commune),
                    )?;
                    report.created += 1;
                }
                Some(old)
                    if (&old.name, &old.kind, &old.province)
                        == (&row.name, &row.kind, &row.province) =>
                {
                    report.unchanged += 1;
                }
                Some(old) => {
                    let new = Commune {
                        name: row.name,
                        kind: row.kind,
                        province: row.province,
                        ..old.clone()
                    };
                    diesel::update(communes::table.find(&old.code))
                        .set((
                            communes::name.eq(&new.name),
                            communes::kind.eq(&new.kind),
                            communes::province.eq(&new.province),
                        ))
                        .execute(conn)?;
                    audit::record(
                        conn,
                        actor,
                        "commune.update",
                        &old.code,
                        Some(&old),
                        Some(&new),
                    )?;
                    report.updated += 1;
                }
            }
        }
        Ok(report)
    })
}

/// Every row, trimmed and checked; or every problem, one per bad line.
fn parse(csv: &[u8]) -> Result<Vec<Row>> {
    let csv = csv.strip_prefix("\u{feff}".as_bytes()).unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(csv);
    let headers = reader
        .headers()
        .map_err(|e| Error::CsvInvalid(format!("line 1: {e}")))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != ["code", "name", "kind", "province"] {
        return Err(Error::CsvInvalid(
            "line 1: the header must be `code,name,kind,province`".into(),
        ));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: {}", short(&e)));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row: Row = match record.deserialize(Some(&headers)) {
            Ok(row) => row,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        match check(&row) {
            Err(problem) => problems.push(format!("line {line}: {problem}")),
            Ok(()) if !seen.insert(row.code.clone()) => {
                problems.push(format!("line {line}: code {} appears twice", row.code));
            }
            Ok(()) => rows.push(Row {
                kind: row.kind.to_lowercase(),
                ..row
            }),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(Error::CsvInvalid(problems.join("; ")))
    }
}

fn short(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths { len, .. } => format!("{len} fields instead of 4"),
        _ => e.to_string(),
    }
}

/// A commune code is the 5-digit code of the national list of administrative units.
fn check(row: &Row) -> std::result::Result<(), String> {
    if row.code.len() != 5 || !row.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("code must be 5 digits, not `{}`", row.code));
    }
    if row.name.is_empty() {
        return Err("name is empty".into());
    }
    if !KINDS.contains(&row.kind.to_lowercase().as_str()) {
        return Err(format!(
            "kind must be xã, phường or đặc khu, not `{}`",
            row.kind
        ));
    }
    if row.province.is_empty() {
        return Err("province is empty".into());
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Commune>> {
    Ok(communes::table
        .select(Commune::as_select())
        .order(communes::code)
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, code: &str) -> Result<Commune> {
    communes::table
        .find(code)
        .select(Commune::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("commune `{code}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(csv: &str) -> String {
        match parse(csv.as_bytes()) {
            Err(Error::CsvInvalid(text)) => text,
            other => panic!("expected csv_invalid, got {:?}", other.map(|r| r.len())),
        }
    }

    #[test]
    fn every_bad_line_is_named() {
        let text = problems(
            "code,name,kind,province\n\
             31001,Phường Hồng Bàng,phường,Hải Phòng\n\
             31002,Xã A\n\
             31001,Xã Trùng,xã,Hải Phòng\n\
             31003,,xã,Hải Phòng\n",
        );
        assert_eq!(
            text,
            "line 3: 2 fields instead of 4; line 4: code 31001 appears twice; line 5: name is empty"
        );
        assert!(problems("ma,ten\n1,2\n").starts_with("line 1: the header"));
    }

    #[test]
    fn bom_spaces_and_capitals_are_tolerated() {
        let rows = parse(
            "\u{feff}code,name,kind,province\n 31001 , Đặc khu Bạch Long Vĩ ,Đặc khu,Hải Phòng\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (
                rows[0].code.as_str(),
                rows[0].name.as_str(),
                rows[0].kind.as_str()
            ),
            ("31001", "Đặc khu Bạch Long Vĩ", "đặc khu")
        );
    }
}
