//! Officials and agencies per commune (người ký, cơ quan): who they are, how a certificate
//! names them (12-digit personal id, or tax code) and the position that may require one.

use diesel::prelude::*;
use serde::Deserialize;

use super::{audit, ensure_may_write, ensure_visible, OfficialKind, Position};
use crate::clients::Client;
use crate::db::models::Official;
use crate::db::schema::officials;
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficial {
    pub commune_code: String,
    pub kind: OfficialKind,
    pub name: String,
    pub personal_id: Option<String>,
    pub tax_code: Option<String>,
    pub position: Position,
    /// Chosen by the caller (e.g. to match a signer id); a new UUID otherwise.
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficialChange {
    pub name: Option<String>,
    pub position: Option<Position>,
    pub active: Option<bool>,
}

/// Số định danh cá nhân: 12 digits.
fn check_personal_id(id: &str) -> Result<()> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::bad_request(format!(
            "personal_id must be 12 digits, not `{id}`"
        )))
    }
}

/// Mã số thuế: 10 digits, or 10 plus a 3-digit branch suffix (`0123456789-001`).
fn check_tax_code(code: &str) -> Result<()> {
    let (main, branch) = code.split_once('-').unwrap_or((code, "000"));
    let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if digits(main, 10) && digits(branch, 3) {
        Ok(())
    } else {
        Err(Error::bad_request(format!(
            "tax_code must be 10 digits (or 10-3), not `{code}`"
        )))
    }
}

fn check(new: &NewOfficial) -> Result<()> {
    if new.name.trim().is_empty() {
        return Err(Error::bad_request("name is empty"));
    }
    match new.kind {
        OfficialKind::Person => {
            let id = new
                .personal_id
                .as_deref()
                .ok_or_else(|| Error::bad_request("a person needs a 12-digit personal_id"))?;
            check_personal_id(id)?;
            if new.tax_code.is_some() || new.position == Position::Agency {
                return Err(Error::bad_request(
                    "a person has no tax_code and cannot hold the agency position",
                ));
            }
        }
        OfficialKind::Agency => {
            let code = new
                .tax_code
                .as_deref()
                .ok_or_else(|| Error::bad_request("an agency needs its tax_code"))?;
            check_tax_code(code)?;
            if new.personal_id.is_some() || new.position != Position::Agency {
                return Err(Error::bad_request(
                    "an agency has no personal_id and its position is `agency`",
                ));
            }
        }
    }
    Ok(())
}

pub fn create(conn: &mut DbConnection, client: &Client, new: NewOfficial) -> Result<Official> {
    ensure_may_write(client, &new.commune_code)?;
    create_as(conn, &client.id, new)
}

/// Creates an official on behalf of `actor` (the caller has checked the right to).
pub fn create_as(conn: &mut DbConnection, actor: &str, new: NewOfficial) -> Result<Official> {
    check(&new)?;
    conn.transaction(|conn| {
        super::communes::get(conn, &new.commune_code)?;
        // Ids are unique across communes; which official holds one is not said.
        if find_by_identifier(conn, new.personal_id.as_deref(), new.tax_code.as_deref())?.is_some()
        {
            return Err(Error::Conflict(
                "this personal id or tax code is already registered".into(),
            ));
        }
        let now = db::now();
        let official = Official {
            id: new.id.unwrap_or_else(super::new_id),
            commune_code: new.commune_code,
            kind: new.kind.as_str().into(),
            name: new.name.trim().to_owned(),
            personal_id: new.personal_id,
            tax_code: new.tax_code,
            position: new.position.as_str().into(),
            active: true,
            created_at: now.clone(),
            updated_at: now,
        };
        if officials::table
            .find(&official.id)
            .count()
            .get_result::<i64>(conn)?
            > 0
        {
            return Err(Error::Conflict(format!(
                "official `{}` exists",
                official.id
            )));
        }
        diesel::insert_into(officials::table)
            .values(&official)
            .execute(conn)
            .map_err(super::unique_or(
                "an official with this id, personal id or tax code",
            ))?;
        audit::record(
            conn,
            actor,
            "official.create",
            &official.id,
            None,
            Some(&official),
        )?;
        Ok(official)
    })
}

pub fn update(
    conn: &mut DbConnection,
    client: &Client,
    id: &str,
    change: OfficialChange,
) -> Result<Official> {
    conn.transaction(|conn| {
        let old = read(conn, client, id)?;
        ensure_may_write(client, &old.commune_code)?;
        let mut new = old.clone();
        if let Some(name) = change.name {
            if name.trim().is_empty() {
                return Err(Error::bad_request("name is empty"));
            }
            new.name = name.trim().to_owned();
        }
        if let Some(position) = change.position {
            if (position == Position::Agency) != (old.kind == OfficialKind::Agency.as_str()) {
                return Err(Error::bad_request(
                    "only an agency holds the `agency` position",
                ));
            }
            new.position = position.as_str().into();
        }
        if let Some(active) = change.active {
            new.active = active;
        }
        new.updated_at = db::now();
        diesel::update(officials::table.find(id))
            .set(&new)
            .execute(conn)?;
        audit::record(
            conn,
            &client.id,
            "official.update",
            id,
            Some(&old),
            Some(&new),
        )?;
        Ok(new)
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Official> {
    officials::table
        .find(id)
        .select(Official::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("official `{id}`")))
}

/// `get`, for a client allowed to read its commune.
pub fn read(conn: &mut DbConnection, client: &Client, id: &str) -> Result<Official> {
    let official = get(conn, id)?;
    ensure_visible(client, &official.commune_code, || {
        format!("official `{id}`")
    })?;
    Ok(official)
}

pub fn list(conn: &mut DbConnection, commune: Option<&str>) -> Result<Vec<Official>> {
    let mut query = officials::table.select(Official::as_select()).into_boxed();
    if let Some(code) = commune {
        query = query.filter(officials::commune_code.eq(code.to_owned()));
    }
    Ok(query
        .order((officials::commune_code, officials::name))
        .load(conn)?)
}

/// The official a certificate's identifiers name, if any.
pub fn find_by_identifier(
    conn: &mut DbConnection,
    personal_id: Option<&str>,
    tax_code: Option<&str>,
) -> Result<Option<Official>> {
    let query = officials::table.select(Official::as_select());
    Ok(match (personal_id, tax_code) {
        (Some(id), _) => query
            .filter(officials::personal_id.eq(id.to_owned()))
            .first(conn)
            .optional()?,
        (None, Some(code)) => query
            .filter(officials::tax_code.eq(code.to_owned()))
            .first(conn)
            .optional()?,
        (None, None) => None,
    })
}
