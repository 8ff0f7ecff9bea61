//! API-key authentication: `authorization: Bearer <key>`; the key is the tenant.

use http::HeaderMap;

use crate::config::{AuthMode, ServerConfig};
use crate::envelope::ApiError;

/// The owner of sessions: the API key that created them. Another key never sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(pub(crate) String);

impl Tenant {
    /// The tenant of API key `key`.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

/// The key of an `authorization` header: `Bearer <key>` (scheme in any case) or a bare key.
fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let key = match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
        Some(_) => return None,
        None => value,
    };
    (!key.is_empty()).then_some(key)
}

/// Authenticates a request, returning its tenant or a 401 error naming the problem.
pub fn authenticate(config: &ServerConfig, headers: &HeaderMap) -> Result<Tenant, ApiError> {
    let Some(key) = bearer_key(headers) else {
        if config.allow_anonymous {
            return Ok(Tenant(String::new()));
        }
        return Err(ApiError::unauthorized(
            "missing API key: send `authorization: Bearer <api key>`",
        ));
    };
    match &config.auth {
        AuthMode::AnyKey => Ok(Tenant(key.to_owned())),
        AuthMode::Keys(keys) if keys.contains(key) => Ok(Tenant(key.to_owned())),
        AuthMode::Keys(_) => Err(ApiError::unauthorized(
            "invalid API key: the key is not accepted by this server (unauthorized)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn keys_are_checked() {
        let mut config = ServerConfig::new(([127, 0, 0, 1], 0).into(), ["k1".to_owned()]);
        assert_eq!(
            authenticate(&config, &headers("Bearer k1")),
            Ok(Tenant("k1".into()))
        );
        assert_eq!(
            authenticate(&config, &headers("bearer k1")),
            Ok(Tenant("k1".into()))
        );
        let err = authenticate(&config, &headers("Bearer k2")).expect_err("wrong key");
        assert_eq!(err.status, 401);
        assert!(err.message.contains("API key"));
        assert!(authenticate(&config, &HeaderMap::new()).is_err());
        config.auth = AuthMode::AnyKey;
        assert!(authenticate(&config, &headers("Bearer anything")).is_ok());
        assert!(authenticate(&config, &HeaderMap::new()).is_err());
        assert_eq!(
            authenticate(&ServerConfig::embedded(), &HeaderMap::new()),
            Ok(Tenant(String::new()))
        );
    }
}
