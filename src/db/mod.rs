//! Storage: one diesel connection type over SQLite and PostgreSQL, chosen at run time by the
//! URL scheme, with each backend's migrations embedded and applied at start.

pub mod models;
pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
#[cfg(feature = "postgres")]
use diesel::PgConnection;
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

// The derive sees the enum after `cfg` is applied: without the feature, one variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection. diesel's `MultiConnection`
/// (2.3) writes out a query's SQL on every execution, even when its prepared statement is
/// cached: about 4 % of a signature's CPU. The queries every signature runs go through this
/// instead, where the statement cache is keyed by the query's type.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use native;

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Opens connections by URL scheme (the derived `establish` would try each backend in turn).
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    /// Commits return before they reach the disk (see `relaxed`).
    relaxed: bool,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let conn = if let Some(path) = self.url.strip_prefix("sqlite://") {
            let mut conn =
                SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
            // WAL lets readers run beside the writer; the busy timeout makes concurrent
            // writers queue instead of failing with SQLITE_BUSY (a loaded machine stretches a
            // document's recording, file store write included, to seconds: writers wait up
            // to 30 s).
            // `batch_execute`: a prepared statement (`sql_query`) would run the first PRAGMA
            // only, leaving a rollback journal that syncs the disk four times per commit.
            conn.batch_execute(
                "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(r2d2::Error::QueryError)?;
            DbConnection::Sqlite(conn)
        } else {
            #[cfg(feature = "postgres")]
            {
                let mut conn =
                    PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                if self.relaxed {
                    conn.batch_execute("SET synchronous_commit = off")
                        .map_err(r2d2::Error::QueryError)?;
                }
                DbConnection::Postgres(conn)
            }
            #[cfg(not(feature = "postgres"))]
            return Err(r2d2::Error::ConnectionError(
                diesel::ConnectionError::InvalidConnectionUrl(
                    "kyso was built without PostgreSQL".into(),
                ),
            ));
        };
        Ok(conn)
    }

    /// A prepared `SELECT 1` (diesel's ping, cached per connection), run at each check-out
    /// on PostgreSQL only: a server restart leaves dead connections in the pool, while a
    /// SQLite file cannot go away under an open connection. (Measured: dropping it on
    /// PostgreSQL too gains no throughput.)
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction that could not be ended, or a PostgreSQL
    /// connection that died (libpq then reports its transaction status unknown, and diesel
    /// marks it broken): dropped when it comes back to the pool.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Connects, creating the SQLite file's folder when needed, and applies pending migrations.
pub fn connect(url: &str) -> Result<Pool> {
    let sqlite = if let Some(path) = url.strip_prefix("sqlite://") {
        let file = std::path::Path::new(path);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_dir_all(dir)
                .map_err(|e| Error::config(format!("database folder {}: {e}", dir.display())))?;
        }
        if path != ":memory:" {
            crate::private_files::ensure_file(file)
                .map_err(|e| Error::config(format!("database file {path}: {e}")))?;
        }
        true
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        if cfg!(not(feature = "postgres")) {
            return Err(Error::config(
                "this kyso was built without PostgreSQL (cargo feature `postgres`)",
            ));
        }
        false
    } else {
        return Err(Error::config(format!(
            "database_url must start with sqlite:// or postgres://, not `{url}`"
        )));
    };
    let builder = r2d2::Pool::builder()
        // One SQLite writer at a time anyway; a few connections serve concurrent readers.
        .max_size(if sqlite { 4 } else { 10 })
        .test_on_check_out(!sqlite);
    let pool = build(builder, url, false)?;
    let mut conn = get(&pool)?;
    let applied = match &mut *conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| Error::config(format!("migrations failed: {e}")))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(pool)
}

/// Whether `url` names a SQLite database (else PostgreSQL).
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite://")
}

/// One connection kept open for one writer (the signing log), re-established if it breaks.
pub fn dedicated(url: &str) -> Result<Pool> {
    let builder = r2d2::Pool::builder()
        .max_size(1)
        .test_on_check_out(!is_sqlite(url));
    build(builder, url, false)
}

/// On PostgreSQL, a small pool of its own for writes a crash may lose without harm: PIN
/// claims, which end with the requests holding them (taken while the request holds a
/// connection of the main pool, so never from it). Its commits return before the WAL reaches
/// the disk (`synchronous_commit = off`: still atomic, at once visible to every session, and
/// made durable by the next durable commit of any session), so a hot row's lock is not held
/// across an fsync. `None` on SQLite, whose commits in WAL mode with `synchronous = NORMAL`
/// do not sync anyway: claims go on the request's connection.
pub fn relaxed(url: &str) -> Result<Option<Pool>> {
    if is_sqlite(url) {
        return Ok(None);
    }
    let builder = r2d2::Pool::builder().max_size(4).min_idle(Some(1));
    build(builder, url, true).map(Some)
}

/// The pool `builder` makes of connections to `url`.
fn build(builder: r2d2::Builder<Manager>, url: &str, relaxed: bool) -> Result<Pool> {
    builder
        .build(Manager {
            url: url.to_owned(),
            relaxed,
        })
        .map_err(|e| Error::config(format!("cannot open the database: {e}")))
}

pub fn get(pool: &Pool) -> Result<PooledConnection> {
    pool.get()
        .map_err(|e| Error::internal(format!("database pool: {e}")))
}

/// Lets the transaction `conn` is in return from its commit before the commit reaches the
/// disk, as `relaxed` does for a whole pool: for a write whose loss in a crash is harmless
/// because anything that depends on it commits durably later, and a durable commit makes every
/// earlier commit durable (PostgreSQL writes one log, in order). Nothing to do on SQLite.
pub fn relax_commit(conn: &mut DbConnection) -> Result<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => c
            .batch_execute("SET LOCAL synchronous_commit = off")
            .map_err(Error::from),
    }
}

/// Now, as stored: RFC 3339 UTC with seconds.
pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
