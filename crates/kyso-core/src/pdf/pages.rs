//! Input that need not stay in memory once read. The core reads its input as `&[u8]`; when the
//! caller has memory-mapped a file, every page read stays resident, and counted against the
//! process, until it is unmapped: a 50 MB file would cost 50 MB however little is kept of it.
//! The passes that read a whole input front to back (digests, searches, the structure scan)
//! go through `windows`, and a caller that installed a release function for this thread
//! (`releasing`) gives each window's pages back once it has been read; reading one again is a
//! minor fault from the page cache. Without one installed nothing is released.
//!
//! A thread-local rather than a parameter: the digests are computed several calls deep, in
//! code shared with signing, and a verification runs on one thread from start to end.

use std::cell::RefCell;
use std::rc::Rc;

/// Bytes read between two releases: large enough that a release costs nothing in comparison.
pub const WINDOW: usize = 4 << 20;

type Release = Rc<dyn Fn(&[u8])>;

thread_local! {
    static RELEASE: RefCell<Option<Release>> = const { RefCell::new(None) };
}

/// Runs `f` with `release` called on every window of input it has finished reading.
pub fn releasing<R>(release: impl Fn(&[u8]) + 'static, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Release>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            RELEASE.with(|r| *r.borrow_mut() = previous);
        }
    }
    let previous = RELEASE.with(|r| r.borrow_mut().replace(Rc::new(release)));
    let _reset = Reset(previous);
    f()
}

/// `bytes` have been read and are not needed again soon.
pub fn read(bytes: &[u8]) {
    let release = RELEASE.with(|r| r.borrow().clone());
    if let Some(release) = release {
        release(bytes);
    }
}

/// `data` in windows of `WINDOW` bytes; each is released (`read`) when the next is asked for,
/// and the last when the iterator is dropped.
pub fn windows(data: &[u8]) -> Windows<'_> {
    Windows {
        rest: data,
        last: &[],
    }
}

pub struct Windows<'a> {
    rest: &'a [u8],
    last: &'a [u8],
}

impl<'a> Iterator for Windows<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        read(std::mem::take(&mut self.last));
        if self.rest.is_empty() {
            return None;
        }
        let (window, rest) = self.rest.split_at(self.rest.len().min(WINDOW));
        self.rest = rest;
        self.last = window;
        Some(window)
    }
}

impl Drop for Windows<'_> {
    fn drop(&mut self) {
        read(std::mem::take(&mut self.last));
    }
}

/// Every offset at which `needle` occurs in `data`, read window by window.
pub fn find_all(data: &[u8], needle: &[u8]) -> Vec<usize> {
    let finder = memchr::memmem::Finder::new(needle);
    let overlap = needle.len().saturating_sub(1);
    let mut out = Vec::new();
    let mut start = 0;
    for window in windows(data) {
        // A match may begin in this window and end in the next one.
        let end = (start + window.len() + overlap).min(data.len());
        out.extend(
            finder
                .find_iter(&data[start..end])
                .filter(|&at| at < window.len())
                .map(|at| start + at),
        );
        start += window.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_across_windows_are_found_once_and_windows_are_released() {
        let mut data = vec![b'x'; 2 * WINDOW + 10];
        for at in [0, WINDOW - 2, WINDOW + 10, 2 * WINDOW + 5] {
            data[at..at + 5].copy_from_slice(b"%%EOF");
        }
        let released = Rc::new(RefCell::new(0usize));
        let counter = released.clone();
        let found = releasing(
            move |bytes| *counter.borrow_mut() += bytes.len(),
            || find_all(&data, b"%%EOF"),
        );
        assert_eq!(found, vec![0, WINDOW - 2, WINDOW + 10, 2 * WINDOW + 5]);
        assert_eq!(*released.borrow(), 2 * WINDOW + 10);
        // Outside `releasing`, nothing is called.
        assert_eq!(find_all(b"a%%EOF", b"%%EOF"), vec![1]);
    }
}
