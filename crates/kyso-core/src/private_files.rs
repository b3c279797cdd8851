//! Files only the service's own user may read: folders 0700, files 0600. Issued documents,
//! the database, keys and PINs are personal data and secrets; the process umask (often 022)
//! would leave them world-readable.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const DIR: u32 = 0o700;
const FILE: u32 = 0o600;

/// `create_dir_all`, every folder it makes 0700.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR).create(path)
}

/// Creates (or truncates) a file for writing, 0600 even if it existed with a wider mode.
pub fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(FILE))?;
    Ok(file)
}

/// Writes a whole file, 0600, creating its folders 0700.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    create(path)?.write_all(bytes)
}

/// Makes sure `path` exists as a 0600 file without touching its content (an SQLite database
/// before SQLite creates it, so its journal files inherit the mode).
pub fn ensure_file(path: &Path) -> io::Result<()> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(FILE))
}

/// Tightens an existing tree (written by an older version, or by hand): folders 0700, files
/// 0600. Symbolic links are not followed; a missing `path` is fine.
pub fn restrict_tree(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR))?;
        for entry in std::fs::read_dir(path)? {
            restrict_tree(&entry?.path())?;
        }
    } else if meta.is_file() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE))?;
    }
    Ok(())
}
