//! The one error type of the session layer, organised by meaning.

use std::time::Duration;

use agbcloud_transport::TransportError;
use agbcloud_wire::{ErrorCode, PathError, WireError};

use crate::policy::PolicyViolation;

/// Whether a failed call reached the server.
///
/// Only [`RequestSent::No`] makes a retry of a non-idempotent call (create, run code) safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestSent {
    /// Refused before anything was sent (validation, policy, a connect failure).
    No,
    /// It may or may not have been sent (a timeout, a connection reset).
    Maybe,
    /// The server received it and answered.
    Yes,
}

/// Why a call failed.
///
/// A non-zero exit code, a code exception or a timeout inside the sandbox are **not** errors:
/// they are data in [`CommandOutput`](crate::CommandOutput) and [`CodeRun`](crate::CodeRun).
/// Every variant says whether the request was sent ([`Error::request_sent`]) and, when the
/// server answered, carries its request id ([`Error::request_id`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session does not exist, was released or expired.
    #[error("session {session_id} not found{}", rid(request_id))]
    SessionNotFound {
        /// The session asked for.
        session_id: String,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// The API key is missing, unknown or not allowed to do this.
    #[error("unauthenticated: {message}{}", rid(request_id))]
    Unauthenticated {
        /// The server's message.
        message: String,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// An argument was refused, by this client before sending (`request_id` is `None`) or by
    /// the server.
    #[error("invalid argument: {message}{}", rid(request_id))]
    InvalidArgument {
        /// What is wrong.
        message: String,
        /// The server's request id, when the server refused it.
        request_id: Option<String>,
    },
    /// The code was refused by the [`CodePolicy`](crate::CodePolicy) and not sent.
    #[error("code refused by policy: {0}")]
    PolicyViolation(#[from] PolicyViolation),
    /// The call, or a wait (deletion, pool acquire), ran out of time.
    #[error("timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
        /// Whether the request may have reached the server.
        sent: RequestSent,
    },
    /// The server refused the work for now (HTTP 429 or code `Throttling`), after retries.
    #[error("rate limited: {message}{}", rid(request_id))]
    RateLimited {
        /// The server's message.
        message: String,
        /// The server's `Retry-After`, when given.
        retry_after: Option<Duration>,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// A tool inside the session failed (a missing file, a bad pattern...).
    #[error("tool {tool} failed: {message}{}", rid(request_id))]
    Tool {
        /// The tool name, e.g. `read_file`.
        tool: String,
        /// The tool's message.
        message: String,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// Any other API failure.
    #[error("API error {code} (HTTP {status}): {message}{}", rid(request_id))]
    Api {
        /// The envelope code.
        code: ErrorCode,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// A response arrived but could not be decoded.
    #[error("undecodable response to {what}{}: {source}", rid(request_id))]
    Decode {
        /// The call, e.g. `GetSession`.
        what: String,
        /// The decoder's error.
        #[source]
        source: WireError,
        /// The server's request id, if it could be read.
        request_id: Option<String>,
    },
    /// No complete response was received.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

fn rid(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// A client-side validation failure: nothing was sent.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            message: message.into(),
            request_id: None,
        }
    }

    /// The server's request id, when a response arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::SessionNotFound { request_id, .. }
            | Self::Unauthenticated { request_id, .. }
            | Self::InvalidArgument { request_id, .. }
            | Self::RateLimited { request_id, .. }
            | Self::Tool { request_id, .. }
            | Self::Api { request_id, .. }
            | Self::Decode { request_id, .. } => request_id.as_deref(),
            Self::Transport(error) => error.request_id(),
            Self::PolicyViolation(_) | Self::Timeout { .. } => None,
        }
    }

    /// Whether the failed request reached the server.
    pub fn request_sent(&self) -> RequestSent {
        match self {
            Self::PolicyViolation(_) => RequestSent::No,
            Self::InvalidArgument { request_id, .. } if request_id.is_none() => RequestSent::No,
            Self::Timeout { sent, .. } => *sent,
            Self::Transport(error) if !error.may_have_been_sent() => RequestSent::No,
            Self::Transport(error) if error.is_body() => RequestSent::Yes,
            Self::Transport(_) => RequestSent::Maybe,
            _ => RequestSent::Yes,
        }
    }

    /// True for [`Error::SessionNotFound`].
    pub fn is_session_not_found(&self) -> bool {
        matches!(self, Self::SessionNotFound { .. })
    }

    /// True for [`Error::Timeout`] and transport timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
            || matches!(self, Self::Transport(error) if error.is_timeout())
    }
}

impl From<PathError> for Error {
    fn from(error: PathError) -> Self {
        Self::invalid(error.to_string())
    }
}

impl agbcloud_transport::ProvideRequestId for Error {
    fn request_id(&self) -> Option<&str> {
        Error::request_id(self)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_whether_sent_and_carries_request_id() {
        let local = Error::invalid("bad");
        assert_eq!(local.request_sent(), RequestSent::No);
        assert_eq!(local.request_id(), None);
        let gone = Error::SessionNotFound {
            session_id: "s-1".into(),
            request_id: Some("r-9".into()),
        };
        assert_eq!(gone.request_sent(), RequestSent::Yes);
        assert_eq!(gone.request_id(), Some("r-9"));
        assert!(gone.to_string().contains("r-9"));
        let connect = Error::from(TransportError::connect("refused"));
        assert_eq!(connect.request_sent(), RequestSent::No);
        let timeout = Error::from(TransportError::timeout("slow"));
        assert_eq!(timeout.request_sent(), RequestSent::Maybe);
        assert!(timeout.is_timeout());
    }
}
