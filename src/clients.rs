//! API clients and their keys. A key is 256 random bits shown once; only its SHA-256 is
//! stored (a slow password hash buys nothing for keys with that much entropy, and lookups
//! stay one indexed query).

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::models::ApiClient;
use crate::db::schema::{api_clients, communes, sessions};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pki::cms::sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, in every commune.
    Admin,
    /// A commune's portal: signs and writes within its own commune.
    Portal,
    /// Reads.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Portal => "portal",
            Role::Viewer => "viewer",
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub role: Role,
    pub commune: Option<String>,
}

impl Client {
    /// May this client act on `commune`'s behalf?
    pub fn may_act_for(&self, commune: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Portal => self.commune.as_deref() == Some(commune),
            Role::Viewer => false,
        }
    }

    /// The one commune a portal acts for; `None` for an administrator (every commune) and
    /// for a viewer, which acts for none and is refused before this matters.
    pub fn confined_to(&self) -> Option<&str> {
        match self.role {
            Role::Portal => self.commune.as_deref(),
            Role::Admin | Role::Viewer => None,
        }
    }

    /// A viewer key reads only. Checked before anything about the signer, commune or
    /// document, so a viewer is told what its key is, never "another commune".
    pub fn ensure_may_sign(&self) -> Result<()> {
        if self.role == Role::Viewer {
            Err(Error::Forbidden(
                "a viewer key only reads; signing and issuing need the commune's portal key or an admin key".into(),
            ))
        } else {
            Ok(())
        }
    }
}

fn hash(key: &str) -> Result<String> {
    Ok(hex::encode(sha256(key.as_bytes())?))
}

/// Creates a client and returns it with its key, which is not kept anywhere.
pub fn create(
    conn: &mut DbConnection,
    role: Role,
    commune: Option<&str>,
    label: &str,
) -> Result<(Client, String)> {
    create_until(conn, role, commune, label, None)
}

/// `create`, with a key that stops working at `expires_at` when given.
pub fn create_until(
    conn: &mut DbConnection,
    role: Role,
    commune: Option<&str>,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(Client, String)> {
    match (role, commune) {
        (Role::Portal, None) => return Err(Error::bad_request("a portal key needs --commune")),
        (_, Some(code)) => {
            let exists = communes::table.find(code).count().get_result::<i64>(conn)? > 0;
            if !exists {
                return Err(Error::NotFound(format!("commune `{code}`")));
            }
        }
        _ => {}
    }
    let mut secret = [0u8; 32];
    openssl::rand::rand_bytes(&mut secret).map_err(Error::internal)?;
    let key = format!(
        "kyso_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let row = ApiClient {
        id: uuid::Uuid::new_v4().to_string(),
        key_hash: hash(&key)?,
        role: role.as_str().into(),
        commune_code: commune.map(Into::into),
        label: label.into(),
        created_at: db::now(),
        expires_at: expires_at.map(db::timestamp),
        revoked_at: None,
    };
    diesel::insert_into(api_clients::table)
        .values(&row)
        .execute(conn)?;
    let client = Client {
        id: row.id,
        role,
        commune: row.commune_code,
    };
    Ok((client, key))
}

/// The client holding `key`, or `Unauthorized` (also for a revoked or expired key).
pub fn authenticate(conn: &mut DbConnection, key: &str) -> Result<Client> {
    let (key_hash, now) = (hash(key)?, db::now());
    let row: ApiClient = db::native!(conn, |c| api_clients::table
        .filter(api_clients::key_hash.eq(&key_hash))
        .filter(usable(now.clone()))
        .select(ApiClient::as_select())
        .first(c)
        .optional())?
    .ok_or(Error::Unauthorized)?;
    Ok(row.into())
}

/// Keys neither revoked nor expired at `now` (as stored).
#[diesel::dsl::auto_type]
pub(crate) fn usable(now: String) -> _ {
    api_clients::revoked_at.is_null().and(
        api_clients::expires_at
            .is_null()
            .or(api_clients::expires_at.gt(now)),
    )
}

impl From<ApiClient> for Client {
    fn from(row: ApiClient) -> Self {
        let role = match row.role.as_str() {
            "admin" => Role::Admin,
            "portal" => Role::Portal,
            _ => Role::Viewer,
        };
        Client {
            id: row.id,
            role,
            commune: row.commune_code,
        }
    }
}

/// Revokes the key of client `id` at once; its dashboard sessions end with it.
pub fn revoke(conn: &mut DbConnection, id: &str) -> Result<()> {
    conn.transaction(|conn| {
        let revoked = diesel::update(
            api_clients::table
                .find(id)
                .filter(api_clients::revoked_at.is_null()),
        )
        .set(api_clients::revoked_at.eq(Some(db::now())))
        .execute(conn)?;
        if revoked == 0 {
            return Err(Error::NotFound(format!(
                "API client `{id}` (or already revoked)"
            )));
        }
        diesel::delete(sessions::table.filter(sessions::client_id.eq(id))).execute(conn)?;
        Ok(())
    })
}
