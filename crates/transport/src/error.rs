//! The opaque transport error and its kinds.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error that can cross threads: the source of a [`TransportError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong while sending a request.
///
/// The kind decides whether a retry is allowed (see [`crate::retry`]) and whether the request
/// may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No connection could be made (refused, DNS failure, connect timeout). The request was
    /// not sent, so it is always safe to retry.
    Connect,
    /// The TLS handshake failed (for example an untrusted certificate). Not sent, not retried.
    Tls,
    /// An attempt or the whole operation ran out of time. The request may have been sent.
    Timeout,
    /// The connection failed after the request was (maybe) written and before the response
    /// head arrived: a reset, an unexpected close. The request may have been sent.
    Interrupted,
    /// The response head arrived but its body could not be read to the end (truncated,
    /// reset). The request was sent.
    Body,
    /// The request could not be built or was refused before sending (bad URI, bad header).
    InvalidRequest,
    /// Anything else. The request may have been sent.
    Other,
}

impl ErrorKind {
    /// Whether an error of this kind leaves open that the server received the request.
    pub fn may_have_been_sent(self) -> bool {
        !matches!(self, Self::Connect | Self::Tls | Self::InvalidRequest)
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Connect => "connection failed",
            Self::Tls => "TLS handshake failed",
            Self::Timeout => "timed out",
            Self::Interrupted => "connection interrupted before the response arrived",
            Self::Body => "response body could not be read",
            Self::InvalidRequest => "invalid request",
            Self::Other => "transport error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A failure to get a complete response: opaque, with a [`kind`](Self::kind) and predicates.
///
/// A response with an error status is not a `TransportError`; it is returned as a response.
/// Errors never contain API keys or session tokens: sources come from the network stack, not
/// from request headers.
pub struct TransportError {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    source: Option<BoxError>,
    attempts: u32,
    request_id: Option<String>,
}

impl TransportError {
    /// Creates an error of `kind` caused by `source`.
    pub fn new(kind: ErrorKind, source: impl Into<BoxError>) -> Self {
        Self::build(kind, Some(source.into()))
    }

    /// Creates an error of `kind` with no underlying cause.
    pub fn from_kind(kind: ErrorKind) -> Self {
        Self::build(kind, None)
    }

    fn build(kind: ErrorKind, source: Option<BoxError>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                source,
                attempts: 1,
                request_id: None,
            }),
        }
    }

    /// No connection could be made; the request was not sent.
    pub fn connect(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Connect, source)
    }

    /// The TLS handshake failed; the request was not sent.
    pub fn tls(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Tls, source)
    }

    /// The attempt or the operation ran out of time.
    pub fn timeout(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Timeout, source)
    }

    /// The connection failed after the request may have been sent, before a response head.
    pub fn interrupted(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Interrupted, source)
    }

    /// The response body could not be read to the end.
    pub fn body(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Body, source)
    }

    /// The request was invalid and was not sent.
    pub fn invalid_request(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::InvalidRequest, source)
    }

    /// Any other failure; the request may have been sent.
    pub fn other(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Other, source)
    }

    /// Attaches the request id the server sent (for example in `x-request-id`).
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.inner.request_id = Some(request_id.into());
        self
    }

    /// Records how many attempts were made before giving up (1 when there was no retry).
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts.max(1);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// No connection could be made.
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// The TLS handshake failed.
    pub fn is_tls(&self) -> bool {
        self.inner.kind == ErrorKind::Tls
    }

    /// An attempt or the operation timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The connection broke before the response head arrived.
    pub fn is_interrupted(&self) -> bool {
        self.inner.kind == ErrorKind::Interrupted
    }

    /// The response body could not be read.
    pub fn is_body(&self) -> bool {
        self.inner.kind == ErrorKind::Body
    }

    /// The request was invalid.
    pub fn is_invalid_request(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidRequest
    }

    /// Whether the server may have received the request (false only when it certainly did not).
    pub fn may_have_been_sent(&self) -> bool {
        self.inner.kind.may_have_been_sent()
    }

    /// How many attempts were made, 1 when the request was not retried.
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The request id the server sent, if a response head arrived with one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("TransportError");
        s.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            s.field("source", source);
        }
        s.field("attempts", &self.inner.attempts);
        if let Some(id) = &self.inner.request_id {
            s.field("request_id", id);
        }
        s.finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.inner.kind.describe())?;
        // The whole cause chain, so that "client error (Connect)" shows its reason too.
        let mut previous = String::new();
        let mut cause = self
            .inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static));
        while let Some(error) = cause {
            let message = error.to_string();
            if !message.is_empty() && !previous.contains(&message) {
                write!(f, ": {message}")?;
            }
            previous = message;
            cause = error.source();
        }
        if self.inner.attempts > 1 {
            write!(f, " (after {} attempts)", self.inner.attempts)?;
        }
        if let Some(id) = &self.inner.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_kind_and_sent() {
        let refused = TransportError::connect("refused");
        assert!(refused.is_connect());
        assert!(!refused.may_have_been_sent());
        let reset = TransportError::interrupted("reset");
        assert!(reset.is_interrupted());
        assert!(reset.may_have_been_sent());
        assert!(TransportError::body("short").is_body());
        assert!(TransportError::timeout("slow").is_timeout());
        assert!(TransportError::tls("bad cert").is_tls());
        assert_eq!(TransportError::other("x").kind(), ErrorKind::Other);
        assert!(!TransportError::invalid_request("x").may_have_been_sent());
    }

    #[test]
    fn display_has_kind_source_attempts_and_request_id() {
        let err = TransportError::timeout("attempt exceeded 5s")
            .with_attempts(3)
            .with_request_id("7F3C-11");
        assert_eq!(
            err.to_string(),
            "timed out: attempt exceeded 5s (after 3 attempts) [request id 7F3C-11]"
        );
        assert_eq!(err.attempts(), 3);
        assert_eq!(err.request_id(), Some("7F3C-11"));
        assert!(StdError::source(&err).is_some());
    }

    #[test]
    fn display_walks_the_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = TransportError::connect(Wrapper(io));
        assert_eq!(err.to_string(), "connection failed: client error: refused");
    }

    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn is_send_sync_and_small() {
        fn check<T: Send + Sync + 'static>() {}
        check::<TransportError>();
        assert_eq!(
            std::mem::size_of::<TransportError>(),
            std::mem::size_of::<usize>()
        );
    }
}
