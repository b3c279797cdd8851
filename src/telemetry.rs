//! Logs to stderr, filtered by `RUST_LOG` (default `info`). Nothing secret is ever a field:
//! PINs and keys are `SecretString`s that cannot be formatted.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
