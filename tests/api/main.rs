//! One integration binary: the real server, real databases, real validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod documents;
mod fixtures;
mod helpers;
mod signing;
mod validators;
