//! The response envelope (agb-protocol.md §1.5) and its success rules (§1.6).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::endpoint::SuccessRule;
use crate::error::WireError;
use crate::error_code::ErrorCode;
use crate::serde_util::{exactly_true, lenient_opt, string_or_null};

/// Every REST response: `{"success", "code", "message", "requestId", "httpStatusCode", "data", ...}`.
///
/// Pagination fields of `ListSession` (and `count` of `DescribeContextFiles`) live at the top
/// level, next to `data`. Capitalised keys (`Success`, `Code`, `Message`, `RequestId`,
/// `HttpStatusCode`) and an envelope nested in `body` are accepted when decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    /// API-level success: true only when the JSON value is exactly `true`.
    #[serde(default, alias = "Success", deserialize_with = "exactly_true")]
    pub success: bool,
    /// Error code; `ok` or empty on success.
    #[serde(default, alias = "Code")]
    pub code: ErrorCode,
    /// Human-readable error message; empty on success (and on tool-level errors, §3.2).
    #[serde(default, alias = "Message", deserialize_with = "string_or_null")]
    pub message: String,
    /// The server's request id (fallback: the `x-request-id` header).
    #[serde(
        default,
        alias = "RequestId",
        alias = "request_id",
        deserialize_with = "string_or_null"
    )]
    pub request_id: String,
    /// Mirrors the HTTP status.
    #[serde(
        default,
        alias = "HttpStatusCode",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub http_status_code: Option<u16>,
    /// The endpoint payload.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    /// Parsed by the SDK for a few endpoints, never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_denied_detail: Option<Value>,
    /// Top-level pagination token (`ListSession`); empty or absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Top-level page size (`ListSession`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub max_results: Option<u32>,
    /// Top-level total count (`ListSession`, `DescribeContextFiles`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub count: Option<u64>,
}

impl<T> Envelope<T> {
    /// A success envelope (`code: "ok"`, `httpStatusCode: 200`) carrying `data`.
    pub fn ok(request_id: impl Into<String>, data: T) -> Self {
        Self {
            data: Some(data),
            ..Self::ok_empty(request_id)
        }
    }

    /// A success envelope without `data`.
    pub fn ok_empty(request_id: impl Into<String>) -> Self {
        Self {
            success: true,
            code: ErrorCode::Ok,
            message: String::new(),
            request_id: request_id.into(),
            http_status_code: Some(200),
            data: None,
            access_denied_detail: None,
            next_token: None,
            max_results: None,
            count: None,
        }
    }

    /// A failure envelope without `data`; `http_status` should equal the HTTP status sent.
    pub fn error(
        request_id: impl Into<String>,
        http_status: u16,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            success: false,
            code,
            message: message.into(),
            http_status_code: Some(http_status),
            ..Self::ok_empty(request_id)
        }
    }

    /// Sets the top-level pagination fields.
    pub fn with_pagination(
        mut self,
        next_token: Option<String>,
        max_results: Option<u32>,
        count: Option<u64>,
    ) -> Self {
        self.next_token = next_token;
        self.max_results = max_results;
        self.count = count;
        self
    }

    /// The request id: the envelope's `requestId` if non-empty, else `header` (the value of
    /// the `x-request-id` response header) if non-empty.
    pub fn request_id_or<'a>(&'a self, header: Option<&'a str>) -> Option<&'a str> {
        request_id(&self.request_id, header)
    }

    /// The envelope message, or `fallback` when it is empty.
    pub fn message_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        if self.message.is_empty() {
            fallback
        } else {
            &self.message
        }
    }

    /// True when this failure means "the session is gone" in the sense of the SDK's delete
    /// polling (§8.2): code `InvalidMcpSession.NotFound`, or `not found` in the message, or
    /// `NotFound` in the code with `httpStatusCode` 400.
    pub fn is_session_gone(&self) -> bool {
        if self.success {
            return false;
        }
        let message = self.message.to_ascii_lowercase();
        self.code == ErrorCode::SessionNotFound
            || message.contains("not found")
            || (self.http_status_code == Some(400)
                && (self.code.is_not_found() || message.contains("notfound")))
    }

    /// The data of a successful envelope, or `None`.
    pub fn into_data(self) -> Option<T> {
        self.data
    }

    /// Converts the data with `f`.
    pub fn map_data<U>(mut self, f: impl FnOnce(T) -> U) -> Envelope<U> {
        let data = self.data.take().map(f);
        self.with_data(data)
    }

    fn with_data<U>(self, data: Option<U>) -> Envelope<U> {
        Envelope {
            success: self.success,
            code: self.code,
            message: self.message,
            request_id: self.request_id,
            http_status_code: self.http_status_code,
            data,
            access_denied_detail: self.access_denied_detail,
            next_token: self.next_token,
            max_results: self.max_results,
            count: self.count,
        }
    }
}

impl<T: Serialize> Envelope<T> {
    /// Applies a success rule of §1.6 to this envelope and the HTTP `status`.
    pub fn is_success(&self, status: u16, rule: SuccessRule) -> bool {
        match rule {
            SuccessRule::StatusBelow400 => status < 400 && self.success,
            SuccessRule::Status200 => status == 200 && self.success,
            SuccessRule::Status200IgnoreEnvelope => status == 200,
            SuccessRule::SessionCreated => self.data.as_ref().is_some_and(|data| {
                let data = serde_json::to_value(data).unwrap_or(Value::Null);
                data.get("success") != Some(&Value::Bool(false))
                    && data
                        .get("sessionId")
                        .and_then(Value::as_str)
                        .is_some_and(|id| !id.is_empty())
            }),
        }
    }

    /// Serialises the envelope to JSON bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>, WireError> {
        serde_json::to_vec(self).map_err(|err| WireError::json("response envelope", err))
    }
}

impl<T: DeserializeOwned> Envelope<T> {
    /// Decodes a response body.
    ///
    /// The data of a failed envelope is best-effort: if it does not have the expected shape it
    /// is dropped rather than failing the whole decode, so the error code and message survive.
    pub fn from_slice(body: &[u8]) -> Result<Self, WireError> {
        let mut value: Value = serde_json::from_slice(body)
            .map_err(|err| WireError::json("response envelope", err))?;
        // releaseSessionAsync responses may nest the envelope in `body` (Alibaba Cloud style).
        if value.get("success").is_none()
            && value.get("Success").is_none()
            && let Some(inner) = value.get_mut("body").filter(|inner| inner.is_object())
        {
            value = inner.take();
        }
        let mut raw: Envelope<Value> = serde_json::from_value(value)
            .map_err(|err| WireError::json("response envelope", err))?;
        let data = match raw.data.take() {
            None => None,
            Some(data) => match serde_json::from_value::<T>(data) {
                Ok(data) => Some(data),
                Err(_) if !raw.success => None,
                Err(err) => return Err(WireError::json("response data", err)),
            },
        };
        Ok(raw.with_data(data))
    }
}

/// Data of endpoints whose response `data` the SDK ignores. Decodes from anything; encodes as `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ignored;

impl Serialize for Ignored {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Ignored)
    }
}

/// Request-id extraction: `envelope_id` if non-empty, else the `x-request-id` header value.
pub fn request_id<'a>(envelope_id: &'a str, header: Option<&'a str>) -> Option<&'a str> {
    if !envelope_id.is_empty() {
        Some(envelope_id)
    } else {
        header.filter(|id| !id.is_empty())
    }
}
