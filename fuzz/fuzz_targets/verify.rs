//! Any bytes into the verifier: it must answer with a report or an error, never panic or hang.
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run verify -- -max_total_time=600` (see fuzz/README.md).
#![no_main]

use std::sync::OnceLock;

use kyso_core::pdf::verify::{verify, Context};
use kyso_core::pki::revocation::RevocationLists;
use kyso_core::pki::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static TRUST: OnceLock<(TrustStore, RevocationLists)> = OnceLock::new();
    let (trust, crls) = TRUST.get_or_init(Default::default);
    let _ = verify(data, &Context { trust, crls, now: chrono::Utc::now(), limits: Default::default() });
});
