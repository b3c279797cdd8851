//! Files read without copying them into memory: memory-mapped, and handed to the core as
//! `&[u8]`. The pages the core has finished reading are given back (`pdf::pages`), so a large
//! file is never resident as a whole: `kyso verify` of 50 MB stays within a few MiB of it.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use memmap2::{Mmap, UncheckedAdvice};

/// A file mapped read-only.
#[derive(Clone)]
pub struct MappedFile {
    map: Arc<Mmap>,
}

/// Pages are released in whole aligned blocks; 64 KiB is a multiple of every page size Linux
/// uses (4, 16, 64 KiB).
const ALIGN: usize = 64 << 10;

impl MappedFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::map(&File::open(path)?)
    }

    pub fn map(file: &File) -> io::Result<Self> {
        // SAFETY: the mapping is read-only. Were another process to shorten the file while it
        // is mapped, reading past the new end would be a SIGBUS, as for every reader that maps
        // (ripgrep, git); kyso maps only files it reads at once, or owns (its spooled uploads).
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(file)? };
        Ok(MappedFile { map: Arc::new(map) })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Runs `f` over the file's bytes, giving back the pages it has finished reading.
    pub fn read<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let me = self.clone();
        crate::pdf::pages::releasing(move |bytes| me.release(bytes), || f(self.bytes()))
    }

    /// Drops the pages wholly inside `bytes` (a part of this mapping) from the process; the
    /// next read of them maps them again from the page cache.
    fn release(&self, bytes: &[u8]) {
        let base = self.map.as_ptr() as usize;
        let Some(offset) = (bytes.as_ptr() as usize).checked_sub(base) else {
            return;
        };
        if offset + bytes.len() > self.map.len() {
            return;
        }
        let start = offset.next_multiple_of(ALIGN);
        let end = (offset + bytes.len()) / ALIGN * ALIGN;
        if end > start {
            // SAFETY: the mapping is read-only and file-backed, so no page holds anything but
            // the file's bytes: dropping one loses nothing, and slices into it stay valid.
            #[allow(unsafe_code)]
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}
