//! Responses: JSON envelopes with a request id in the body and the `x-request-id` header.

use std::sync::atomic::{AtomicU64, Ordering};

use agbcloud_wire::{Envelope, ErrorCode, WireError};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A request failure answered with an error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (mirrored as `httpStatusCode`).
    pub status: StatusCode,
    /// Envelope code.
    pub code: ErrorCode,
    /// Envelope message, naming the problem.
    pub message: String,
}

impl ApiError {
    /// A failure with any status and code.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `InvalidMcpSession.NotFound` "Session not found": unknown, released, expired or
    /// another key's session (existence never leaks).
    pub fn session_not_found() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::SessionNotFound,
            "Session not found",
        )
    }

    /// 400 `InvalidParameter`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidParameter,
            message,
        )
    }

    /// 400 for a request that could not be decoded; the message names the problem.
    pub fn bad_request(err: &WireError) -> Self {
        let what = if err.is_malformed() {
            "malformed JSON"
        } else {
            "invalid request"
        };
        Self::invalid(format!("{what}: {}", describe(err)))
    }

    /// 401 `InvalidApiKey`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidApiKey, message)
    }

    /// 413 for a body over the cap.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Other("RequestTooLarge".into()),
            format!("request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 404 for an unknown route.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::Other("InvalidAction.NotFound".into()),
            format!("no such API: {method} {path}"),
        )
    }

    /// 501 for an API this server does not implement.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            ErrorCode::Other("NotImplemented".into()),
            format!("{what} is not supported by this server"),
        )
    }

    /// 500 for a server-side failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            message,
        )
    }

    /// 503 while shutting down.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            message,
        )
    }

    /// The error envelope.
    pub fn to_envelope(&self, request_id: &str) -> Envelope<()> {
        Envelope::error(
            request_id,
            self.status.as_u16(),
            self.code.clone(),
            self.message.clone(),
        )
    }

    /// The HTTP response.
    pub fn into_response(self, request_id: &str) -> Response<Bytes> {
        json_response(self.status, request_id, &self.to_envelope(request_id))
    }
}

/// A wire error's text: serde's own message (naming the field, the expected type and the
/// position) without our "in request params" wrapper.
pub(crate) fn describe(err: &WireError) -> String {
    match err {
        WireError::MalformedJson { source, .. } | WireError::WrongType { source, .. } => {
            source.to_string()
        }
        other => other.to_string(),
    }
}

/// A new request id: `<process tag>-<sequence>`, unique within the process.
pub fn new_request_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    static TAG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let tag = TAG.get_or_init(rand::random::<u32>);
    format!("{tag:08X}-{:06X}", SEQ.fetch_add(1, Ordering::Relaxed))
}

/// A JSON response with `x-request-id`.
pub fn json_response<T: Serialize>(
    status: StatusCode,
    request_id: &str,
    body: &T,
) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|err| {
        format!(
            r#"{{"success":false,"code":"InternalError","message":"cannot encode response: {err}","requestId":"{request_id}","httpStatusCode":500}}"#
        )
        .into_bytes()
    });
    let mut response = Response::new(Bytes::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// A 200 success envelope carrying `data`.
pub fn ok<T: Serialize>(request_id: &str, data: T) -> Response<Bytes> {
    json_response(StatusCode::OK, request_id, &Envelope::ok(request_id, data))
}

/// A 200 success envelope without data.
pub fn ok_empty(request_id: &str) -> Response<Bytes> {
    json_response(
        StatusCode::OK,
        request_id,
        &Envelope::<()>::ok_empty(request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_request_id_twice() {
        let response = ApiError::session_not_found().into_response("R-1");
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "R-1");
        let envelope: Envelope<serde_json::Value> =
            Envelope::from_slice(response.body()).expect("envelope");
        assert!(envelope.is_session_gone());
        assert_eq!(envelope.request_id, "R-1");
        assert_eq!(envelope.http_status_code, Some(400));
    }

    #[test]
    fn request_ids_are_unique() {
        assert_ne!(new_request_id(), new_request_id());
    }
}
