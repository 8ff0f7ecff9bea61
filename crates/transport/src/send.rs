//! The transport seam: one attempt at sending one request.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::TransportError;

/// The future returned by [`HttpSend::send`].
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and returns its response: a single attempt, no retries.
///
/// This is the seam between the SDK and the network. The default implementation is the
/// hyper + rustls client (feature `client`); the embedded engine implements it with an
/// in-process router, and tests implement it with mocks. Retries, timeouts, base URL and
/// authentication are added on top by the retrying `Transport` and are not the implementor's job.
///
/// A response with any status (including 4xx and 5xx) is `Ok`; `Err` means no complete
/// response was received. Build errors with the [`TransportError`] constructors so that the
/// retry logic can classify them ([`TransportError::connect`] when the request was certainly
/// not sent, [`TransportError::interrupted`] when it may have been, and so on).
///
/// The trait is object safe; implement it like this:
///
/// ```
/// use agbcloud_transport::{HttpSend, SendFuture};
/// use bytes::Bytes;
///
/// #[derive(Debug)]
/// struct Teapot;
///
/// impl HttpSend for Teapot {
///     fn send(&self, _request: http::Request<Bytes>) -> SendFuture<'_> {
///         Box::pin(async {
///             Ok(http::Response::builder()
///                 .status(418)
///                 .body(Bytes::from_static(b"{}"))
///                 .expect("static response is valid"))
///         })
///     }
/// }
/// ```
pub trait HttpSend: Send + Sync + fmt::Debug {
    /// Sends `request` once and returns the complete response.
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_>;
}

/// A cheap-to-clone, shared [`HttpSend`]: an `Arc<dyn HttpSend>`.
#[derive(Clone)]
pub struct SharedHttpSend(Arc<dyn HttpSend>);

impl SharedHttpSend {
    /// Wraps an implementation of [`HttpSend`].
    pub fn new(inner: impl HttpSend + 'static) -> Self {
        Self(Arc::new(inner))
    }

    /// Returns the wrapped implementation.
    pub fn inner(&self) -> &Arc<dyn HttpSend> {
        &self.0
    }
}

impl fmt::Debug for SharedHttpSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedHttpSend").field(&self.0).finish()
    }
}

impl HttpSend for SharedHttpSend {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        self.0.send(request)
    }
}

impl From<Arc<dyn HttpSend>> for SharedHttpSend {
    fn from(inner: Arc<dyn HttpSend>) -> Self {
        Self(inner)
    }
}

impl<T: HttpSend + ?Sized> HttpSend for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        (**self).send(request)
    }
}

impl<T: HttpSend + ?Sized> HttpSend for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        (**self).send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Echo;

    impl HttpSend for Echo {
        fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
            Box::pin(async move { Ok(http::Response::new(request.into_body())) })
        }
    }

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn shared_is_send_sync_clone() {
        assert_send_sync::<SharedHttpSend>();
    }

    #[test]
    fn shared_delegates_to_inner() {
        let shared = SharedHttpSend::new(Echo);
        let twin = shared.clone();
        let request = http::Request::new(Bytes::from_static(b"ping"));
        let response = futures_lite_block_on(twin.send(request)).expect("echo answers");
        assert_eq!(response.body(), &Bytes::from_static(b"ping"));
        assert!(format!("{shared:?}").contains("Echo"));
    }

    /// Polls a future that completes without waking (enough for `Echo`).
    fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("Echo never pends"),
        }
    }
}
