//! The PDF core: bytes and certificates in, values out. No actix, no diesel.

pub mod archive;
pub mod certify;
pub mod font;
pub mod object;
pub(crate) mod original;
pub mod pages;
pub mod read;
pub mod render;
pub mod sign;
pub(crate) mod syntax;
pub(crate) mod update;
pub mod verify;
