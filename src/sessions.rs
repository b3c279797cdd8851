//! Dashboard sign-ins: the cookie carries a random session id, never the API key; only the
//! id's SHA-256 is stored, with an expiry. A session ends at its expiry, at sign-out, or when
//! its key is revoked or expires.

use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;

use crate::clients::{self, Client};
use crate::db::models::ApiClient;
use crate::db::schema::{api_clients, sessions};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pki::cms::sha256;

fn hash(id: &str) -> Result<String> {
    Ok(hex::encode(sha256(id.as_bytes())?))
}

/// Opens a session for `client` lasting `ttl`; returns its id (shown once, in the cookie).
pub fn open(conn: &mut DbConnection, client: &Client, ttl: Duration) -> Result<String> {
    let now = Utc::now();
    // Expired sessions are dropped as new ones open, so the table stays small.
    diesel::delete(sessions::table.filter(sessions::expires_at.le(db::timestamp(now))))
        .execute(conn)?;
    let mut secret = [0u8; 32];
    openssl::rand::rand_bytes(&mut secret).map_err(Error::internal)?;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(hash(&id)?),
            sessions::client_id.eq(&client.id),
            sessions::created_at.eq(db::timestamp(now)),
            sessions::expires_at.eq(db::timestamp(now + ttl)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The client of a live session whose key is still usable, or `Unauthorized`.
pub fn client(conn: &mut DbConnection, id: &str) -> Result<Client> {
    let now = db::now();
    let row: ApiClient = sessions::table
        .inner_join(api_clients::table)
        .filter(sessions::id_hash.eq(hash(id)?))
        .filter(sessions::expires_at.gt(&now))
        .filter(clients::usable(now.clone()))
        .select(ApiClient::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::Unauthorized)?;
    Ok(row.into())
}

/// Ends a session; an unknown one is already ended.
pub fn close(conn: &mut DbConnection, id: &str) -> Result<()> {
    diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash(id)?))).execute(conn)?;
    Ok(())
}
