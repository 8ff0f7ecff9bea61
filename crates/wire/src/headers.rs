//! Header names and values of the AGB API (§1.3, §1.4, §3.3, §7.1).

/// `Content-Type` of every request and response.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// The API-key header (lower case, as Python `requests` sends it).
pub const AUTHORIZATION: &str = "authorization";

/// The response header carrying the request id (fallback for the envelope's `requestId`).
pub const REQUEST_ID: &str = "x-request-id";

/// The per-session token header of the link route and the WebSocket handshake.
pub const ACCESS_TOKEN: &str = "X-Access-Token";

/// The `authorization` value for an API key: `Bearer <key>`.
pub fn bearer(api_key: &str) -> String {
    format!("Bearer {api_key}")
}

/// Server side: the API key of an `authorization` value (`Bearer` in any case, surrounding
/// whitespace ignored); `None` for another scheme or an empty key.
pub fn parse_bearer(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_round_trips_and_rejects_other_schemes() {
        assert_eq!(bearer("akm-1"), "Bearer akm-1");
        assert_eq!(parse_bearer(&bearer("akm-1")), Some("akm-1"));
        assert_eq!(parse_bearer("  bearer   ako-2 "), Some("ako-2"));
        assert_eq!(parse_bearer("Basic abc"), None);
        assert_eq!(parse_bearer("Bearer "), None);
        assert_eq!(parse_bearer("Bearer"), None);
    }
}
