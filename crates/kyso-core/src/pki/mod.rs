//! Certificates and keys: the dev CA generator, key stores, CMS structures and the TSA.

pub mod algorithms;
pub mod certificate;
pub mod cms;
pub mod dev;
pub mod fetch;
pub mod keystore;
pub mod ocsp;
pub mod pkcs11;
pub mod revocation;
pub mod trust;
pub mod tsa;

pub use certificate::Certificate;

/// Starts OpenSSL lean, for a process that verifies a file and exits: without its error
/// strings (8 % of the instructions of a `kyso verify` of a small file; no report shows them,
/// and an OpenSSL error's message then names its library and reason by number), and without
/// the legacy table of ciphers by name (9 %: the first algorithm fetch copies every name in it
/// into the provider's name map). Verification decrypts nothing with OpenSSL (an encrypted
/// PDF's RC4 and AES are lopdf's), and a fetch by name still finds every cipher of the default
/// provider. Must come before any other use of OpenSSL, which would load both.
pub fn start_openssl_lean() {
    const NO_LOAD_CRYPTO_STRINGS: u64 = 0x0000_0001;
    const NO_ADD_ALL_CIPHERS: u64 = 0x0000_0010;
    const NO_LOAD_SSL_STRINGS: u64 = 0x0010_0000;
    let options = NO_LOAD_CRYPTO_STRINGS
        | NO_ADD_ALL_CIPHERS
        | NO_LOAD_SSL_STRINGS
        | openssl_sys::OPENSSL_INIT_NO_ATEXIT;
    // SAFETY: OPENSSL_init_ssl takes option bits and a settings pointer that may be null (the
    // defaults), and may be called from any thread at any time. On failure (out of memory),
    // the next OpenSSL call initialises it the usual way.
    #[allow(unsafe_code)]
    unsafe {
        openssl_sys::OPENSSL_init_ssl(options, std::ptr::null());
    }
}
