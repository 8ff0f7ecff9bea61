//! Envelope error codes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The envelope's `code` (agb-protocol.md §1.5).
///
/// Serialises as the plain string; unknown codes are kept verbatim in [`ErrorCode::Other`].
/// Besides `InvalidMcpSession.NotFound`, which the official SDK recognises, the named codes are
/// the ones the local server uses (Alibaba Cloud conventions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `""`: no code (accepted as success).
    #[default]
    Empty,
    /// `"ok"`: success.
    Ok,
    /// `"InvalidMcpSession.NotFound"`: the session does not exist or was released.
    SessionNotFound,
    /// `"InvalidContext.NotFound"`: no such context.
    ContextNotFound,
    /// `"InvalidParameter"`: a parameter is missing or malformed.
    InvalidParameter,
    /// `"InvalidApiKey"`: missing or unknown API key.
    InvalidApiKey,
    /// `"Forbidden"`: the key may not act on this resource.
    Forbidden,
    /// `"Throttling"`: too many requests; retry later.
    Throttling,
    /// `"ServiceUnavailable"`: the server cannot take work now; retry later.
    ServiceUnavailable,
    /// `"InternalError"`: the server failed.
    InternalError,
    /// Any other code, verbatim.
    Other(String),
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Empty => "",
            Self::Ok => "ok",
            Self::SessionNotFound => "InvalidMcpSession.NotFound",
            Self::ContextNotFound => "InvalidContext.NotFound",
            Self::InvalidParameter => "InvalidParameter",
            Self::InvalidApiKey => "InvalidApiKey",
            Self::Forbidden => "Forbidden",
            Self::Throttling => "Throttling",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::InternalError => "InternalError",
            Self::Other(code) => code,
        }
    }

    /// Parses a wire string; never fails.
    pub fn from_wire(code: &str) -> Self {
        match code {
            "" => Self::Empty,
            "ok" => Self::Ok,
            "InvalidMcpSession.NotFound" => Self::SessionNotFound,
            "InvalidContext.NotFound" => Self::ContextNotFound,
            "InvalidParameter" => Self::InvalidParameter,
            "InvalidApiKey" => Self::InvalidApiKey,
            "Forbidden" => Self::Forbidden,
            "Throttling" => Self::Throttling,
            "ServiceUnavailable" => Self::ServiceUnavailable,
            "InternalError" => Self::InternalError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// True for `""` and `"ok"`, the codes of a successful response.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Empty | Self::Ok)
    }

    /// True when the code says "not found" in the way the SDK's delete polling recognises
    /// (lower-cased, contains `notfound`).
    pub fn is_not_found(&self) -> bool {
        self.as_str().to_ascii_lowercase().contains("notfound")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        Self::from_wire(code)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = Option::<String>::deserialize(deserializer)?;
        Ok(code.map_or(Self::Empty, |code| Self::from_wire(&code)))
    }
}
