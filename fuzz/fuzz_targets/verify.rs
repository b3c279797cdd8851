//! Any bytes into the verifier: it must answer with a report or an error, never panic or hang.
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run verify -- -max_total_time=600` (see fuzz/README.md).
#![no_main]

use std::sync::OnceLock;

use kyso_core::pdf::verify::{verify, Context};
use kyso_core::pki::revocation::{RevocationLists, RevocationSource};
use kyso_core::pki::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // No anchors, no lists and nothing fetched: every path that reads the file runs anyway.
    static TRUST: OnceLock<(TrustStore, RevocationSource)> = OnceLock::new();
    let (trust, revocation) = TRUST.get_or_init(|| {
        (
            TrustStore::default(),
            RevocationSource::new(RevocationLists::default(), None),
        )
    });
    let context = Context {
        trust,
        revocation,
        now: chrono::Utc::now(),
        limits: Default::default(),
    };
    let _ = verify(data, &context);
});
