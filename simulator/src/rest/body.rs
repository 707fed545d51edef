//! The body of every reply: one or more chunks of bytes with a known total length.
//!
//! Most replies are one chunk. A print of a large address list is rendered in two halves on two
//! threads (`reply.rs`), and sending the halves as consecutive chunks of one body avoids copying them
//! together. The length is known in advance, so hyper sends a `Content-Length` as a router does (no
//! chunked encoding).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A reply body made of chunks.
#[derive(Debug, Default)]
pub struct Body {
    /// The first chunk; for the common one-chunk reply nothing else is allocated (small replies
    /// are the hot path).
    one: Option<Bytes>,
    /// Further chunks, in order, after `one`.
    more: VecDeque<Bytes>,
    remaining: u64,
}

impl Body {
    /// A body of consecutive pieces.
    pub fn from_parts(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let mut parts = parts.into_iter().filter(|b| !b.is_empty());
        let one = parts.next();
        let more: VecDeque<Bytes> = parts.collect();
        let remaining = one.iter().chain(more.iter()).map(|b| b.len() as u64).sum();
        Self {
            one,
            more,
            remaining,
        }
    }

    /// The whole body as one buffer (for tests and callers that need the bytes).
    pub fn to_bytes(&self) -> Bytes {
        match (&self.one, self.more.is_empty()) {
            (None, _) => Bytes::new(),
            (Some(b), true) => b.clone(),
            (Some(b), false) => b
                .iter()
                .chain(self.more.iter().flatten())
                .copied()
                .collect::<Vec<u8>>()
                .into(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        let remaining = b.len() as u64;
        Self {
            one: (!b.is_empty()).then_some(b),
            more: VecDeque::new(),
            remaining,
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Self::from(Bytes::from(v))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Self::from(Bytes::from_static(s.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let next = this.one.take().or_else(|| this.more.pop_front());
        Poll::Ready(next.map(|chunk| {
            this.remaining -= chunk.len() as u64;
            Ok(Frame::data(chunk))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.one.is_none() && self.more.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn chunks_come_out_in_order_with_an_exact_length() {
        let body = Body::from_parts([
            Bytes::from_static(b"[1,"),
            Bytes::new(),
            Bytes::from_static(b"2]"),
        ]);
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
        assert_eq!(body.to_bytes(), Bytes::from_static(b"[1,2]"));
        assert_eq!(
            body.collect().await.unwrap().to_bytes(),
            Bytes::from_static(b"[1,2]")
        );
        let one = Body::from(b"{}".to_vec());
        assert_eq!(http_body::Body::size_hint(&one).exact(), Some(2));
        assert_eq!(
            one.collect().await.unwrap().to_bytes(),
            Bytes::from_static(b"{}")
        );
        let empty = Body::default();
        assert!(http_body::Body::is_end_stream(&empty));
        assert_eq!(http_body::Body::size_hint(&empty).exact(), Some(0));
    }
}
