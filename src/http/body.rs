//! A large answer (a signed 50 MB scan) sent in slices of its one buffer. actix copies each
//! chunk of a body into its write buffer before the socket takes it, so a body given whole
//! would be held twice; slices of shared `Bytes` are copied only as the socket drains.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

/// Bytes handed to actix at a time.
const SLICE: usize = 64 << 10;

pub struct Sliced {
    bytes: Bytes,
    at: usize,
}

impl Sliced {
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Sliced {
            bytes: bytes.into(),
            at: 0,
        }
    }
}

impl MessageBody for Sliced {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.bytes.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.at >= this.bytes.len() {
            return Poll::Ready(None);
        }
        let end = this.bytes.len().min(this.at + SLICE);
        let slice = this.bytes.slice(this.at..end);
        this.at = end;
        Poll::Ready(Some(Ok(slice)))
    }
}
