//! The one error type of this crate.

use crate::path::PathError;

/// Why bytes could not be turned into a wire type, or a wire type into bytes.
///
/// Every decoder in this crate returns this instead of panicking, whatever the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input is not well-formed JSON (syntax error or truncated input).
    #[error("malformed JSON in {what}: {source}")]
    MalformedJson {
        /// What was being decoded, e.g. "response envelope".
        what: &'static str,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is well formed but a value has the wrong type or a required field is missing.
    #[error("unexpected JSON shape in {what}: {source}")]
    WrongType {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's error, naming the field and the expected type.
        #[source]
        source: serde_json::Error,
    },
    /// A value is valid JSON but not the kind this position requires (e.g. an array, not an object).
    #[error("{what} must be {expected}")]
    NotA {
        /// What was being decoded.
        what: &'static str,
        /// The kind of value expected there.
        expected: &'static str,
    },
    /// A params type has a field that its endpoint declares neither as query nor body field.
    #[error("field `{field}` is not declared by endpoint {endpoint}")]
    UndeclaredField {
        /// The endpoint name.
        endpoint: &'static str,
        /// The offending field.
        field: String,
    },
    /// A sandbox path was rejected.
    #[error("invalid sandbox path: {0}")]
    Path(#[from] PathError),
    /// Base64 content could not be decoded.
    #[error("invalid base64 in {what}: {source}")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: base64::DecodeError,
    },
}

impl WireError {
    /// Wraps a `serde_json` error, telling malformed input apart from a wrong shape.
    pub fn json(what: &'static str, source: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match source.classify() {
            Category::Syntax | Category::Eof | Category::Io => Self::MalformedJson { what, source },
            Category::Data => Self::WrongType { what, source },
        }
    }

    /// True when the input was not valid JSON at all.
    pub fn is_malformed(&self) -> bool {
        matches!(self, Self::MalformedJson { .. })
    }
}
