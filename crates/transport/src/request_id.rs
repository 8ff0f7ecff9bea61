//! Request ids: from the envelope's `requestId`, else the `x-request-id` header.

use std::fmt;

use http::HeaderMap;

/// The response header that carries a request id when the body does not.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Bodies larger than this are not scanned for an envelope `requestId`.
const MAX_ENVELOPE_SCAN: usize = 1 << 20;

/// The server's id for one request, as found in the response.
///
/// The [`Transport`](crate::Transport) stores it in the response's extensions, so any layer
/// above can read it with `response.extensions().get::<RequestId>()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Finds the request id of a response: the envelope's `requestId` when the body is a JSON
    /// object that has one, else the `x-request-id` header.
    pub fn from_response(headers: &HeaderMap, body: &[u8]) -> Option<Self> {
        from_envelope(body).or_else(|| Self::from_headers(headers))
    }

    /// Reads the `x-request-id` header.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| !id.is_empty())
            .map(|id| Self(id.to_owned()))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Anything that may know the server's request id: responses, errors, and results of both.
pub trait ProvideRequestId {
    /// The request id, when the server sent one.
    fn request_id(&self) -> Option<&str>;
}

impl<B> ProvideRequestId for http::Response<B> {
    fn request_id(&self) -> Option<&str> {
        self.extensions().get::<RequestId>().map(RequestId::as_str)
    }
}

impl ProvideRequestId for crate::TransportError {
    fn request_id(&self) -> Option<&str> {
        crate::TransportError::request_id(self)
    }
}

impl<T: ProvideRequestId, E: ProvideRequestId> ProvideRequestId for Result<T, E> {
    fn request_id(&self) -> Option<&str> {
        match self {
            Ok(ok) => ok.request_id(),
            Err(err) => err.request_id(),
        }
    }
}

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<std::borrow::Cow<'a, str>>,
}

fn from_envelope(body: &[u8]) -> Option<RequestId> {
    if body.len() > MAX_ENVELOPE_SCAN
        || body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{')
    {
        return None;
    }
    let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
    envelope
        .request_id
        .filter(|id| !id.is_empty())
        .map(|id| RequestId(id.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(id) = id {
            map.insert(REQUEST_ID_HEADER, id.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn envelope_wins_over_header() {
        let body = br#"{"success": true, "requestId": "7F3C-11", "data": {"a": [1, 2]}}"#;
        let id = RequestId::from_response(&headers(Some("hdr")), body);
        assert_eq!(id.as_ref().map(RequestId::as_str), Some("7F3C-11"));
    }

    #[test]
    fn header_is_the_fallback() {
        for body in [
            &br#"{"success": true}"#[..],
            b"not json",
            b"[1]",
            b"",
            br#"{"requestId": ""}"#,
        ] {
            let id = RequestId::from_response(&headers(Some("hdr-1")), body);
            assert_eq!(id.as_ref().map(RequestId::as_str), Some("hdr-1"));
        }
        assert_eq!(RequestId::from_response(&headers(None), b"{}"), None);
    }

    #[test]
    fn responses_errors_and_results_provide_ids() {
        let mut response = http::Response::new(());
        response
            .extensions_mut()
            .insert(RequestId("R-1".to_owned()));
        let error = crate::TransportError::body("cut").with_request_id("R-2");
        assert_eq!(ProvideRequestId::request_id(&response), Some("R-1"));
        assert_eq!(ProvideRequestId::request_id(&error), Some("R-2"));
        let result: Result<http::Response<()>, crate::TransportError> = Err(error);
        assert_eq!(result.request_id(), Some("R-2"));
    }

    #[test]
    fn escaped_ids_are_decoded() {
        let id = RequestId::from_response(&headers(None), br#"{"requestId": "a\"b"}"#);
        assert_eq!(id.as_ref().map(RequestId::as_str), Some("a\"b"));
    }
}
