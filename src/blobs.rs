//! Where issued PDFs are kept: files under the data directory (one instance), or the database
//! (several instances sharing one PostgreSQL). Both take the caller's connection so a database
//! blob is written in the same transaction as the document that points to it.

use std::path::{Path, PathBuf};

use diesel::prelude::*;

use crate::config::{BlobStoreKind, Settings};
use crate::db::schema::blobs;
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::private_files;

pub trait BlobStore: Send + Sync {
    fn put(&self, conn: &mut DbConnection, key: &str, data: &[u8]) -> Result<()>;
    fn get(&self, conn: &mut DbConnection, key: &str) -> Result<Vec<u8>>;
    /// Removes a blob; a missing one is not an error.
    fn delete(&self, conn: &mut DbConnection, key: &str) -> Result<()>;
}

pub fn from_settings(settings: &Settings) -> Box<dyn BlobStore> {
    match settings.documents.store {
        BlobStoreKind::Files => Box::new(Files {
            dir: settings.data_dir.join("documents"),
        }),
        BlobStoreKind::Database => Box::new(Database),
    }
}

/// One file per blob; keys are app-made (uuid-based), never user input.
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    fn path(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::internal(format!("invalid blob key `{key}`")));
        }
        Ok(self.dir.join(format!("{key}.pdf")))
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("{}: {e}", path.display()))
}

impl BlobStore for Files {
    /// Written to a temporary name, synced, then renamed: a crash leaves the old state or the
    /// whole new file, never half a file under the final name.
    fn put(&self, _: &mut DbConnection, key: &str, data: &[u8]) -> Result<()> {
        use std::io::Write;
        let path = self.path(key)?;
        private_files::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let tmp = path.with_extension("part");
        let mut file = private_files::create(&tmp).map_err(|e| io(&tmp, e))?;
        file.write_all(data)
            .and_then(|()| file.sync_all())
            .map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
    }

    fn get(&self, _: &mut DbConnection, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        std::fs::read(&path).map_err(|e| io(&path, e))
    }

    fn delete(&self, _: &mut DbConnection, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path, e)),
            _ => Ok(()),
        }
    }
}

/// Rows of the `blobs` table.
pub struct Database;

impl BlobStore for Database {
    fn put(&self, conn: &mut DbConnection, key: &str, data: &[u8]) -> Result<()> {
        diesel::insert_into(blobs::table)
            .values((
                blobs::key.eq(key),
                blobs::data.eq(data),
                blobs::created_at.eq(db::now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    fn get(&self, conn: &mut DbConnection, key: &str) -> Result<Vec<u8>> {
        blobs::table
            .find(key)
            .select(blobs::data)
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::internal(format!("blob `{key}` is missing")))
    }

    fn delete(&self, conn: &mut DbConnection, key: &str) -> Result<()> {
        diesel::delete(blobs::table.find(key)).execute(conn)?;
        Ok(())
    }
}
