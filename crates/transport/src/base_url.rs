//! The base URL rule of the AGB SDKs (agb-protocol.md §1.1).

use std::fmt;

use http::Uri;

/// The endpoint could not be turned into a base URL.
#[derive(Debug, thiserror::Error)]
#[error("invalid endpoint {endpoint:?}: {reason}")]
pub struct InvalidEndpoint {
    endpoint: String,
    reason: String,
}

/// The base URL every relative request path is joined to.
///
/// Built from an endpoint the way the official SDKs do: an endpoint without `http://` or
/// `https://` gets `https://`; a path prefix (`http://host/prefix`) is kept; trailing slashes
/// are dropped so that joining never produces `//`.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://authority`, no trailing slash.
    origin: String,
    /// Empty or `/prefix` (no trailing slash).
    prefix: String,
}

impl BaseUrl {
    /// Parses an endpoint such as `sdk-api.agb.cloud`, `http://127.0.0.1:8080` or
    /// `https://host/prefix/`.
    pub fn parse(endpoint: &str) -> Result<Self, InvalidEndpoint> {
        let invalid = |reason: &str| InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = endpoint.trim();
        if trimmed.is_empty() {
            return Err(invalid("empty endpoint"));
        }
        let with_scheme = if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let uri: Uri = with_scheme
            .parse()
            .map_err(|err: http::uri::InvalidUri| invalid(&err.to_string()))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(invalid("missing host"));
        };
        if uri.query().is_some() {
            return Err(invalid("an endpoint cannot have a query string"));
        }
        let prefix = collapse_slashes(uri.path());
        let prefix = prefix.trim_end_matches('/').to_owned();
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            prefix,
        })
    }

    /// `scheme://authority` of the base URL.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The path prefix, empty or starting with `/` and without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Joins a request path (with optional query) to the base URL, collapsing duplicate
    /// slashes at the seam and inside the path.
    pub fn join(&self, path_and_query: &str) -> Result<Uri, http::uri::InvalidUri> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut url =
            String::with_capacity(self.origin.len() + self.prefix.len() + path_and_query.len() + 1);
        url.push_str(&self.origin);
        url.push_str(&self.prefix);
        let path = collapse_slashes(path);
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(&path);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url.parse()
    }

    /// Whether `uri` points at this base URL's origin (same scheme, host and port).
    pub fn same_origin(&self, uri: &Uri) -> bool {
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                let origin = &self.origin;
                origin.len() == scheme.len() + 3 + authority.as_str().len()
                    && origin.starts_with(scheme)
                    && origin[scheme.len()..].starts_with("://")
                    && origin[scheme.len() + 3..].eq_ignore_ascii_case(authority.as_str())
            }
            _ => false,
        }
    }
}

fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut previous_slash = false;
    for c in path.chars() {
        if c == '/' {
            if !previous_slash {
                out.push(c);
            }
            previous_slash = true;
        } else {
            out.push(c);
            previous_slash = false;
        }
    }
    out
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.prefix)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(endpoint: &str) -> BaseUrl {
        BaseUrl::parse(endpoint).expect("valid endpoint")
    }

    #[test]
    fn scheme_less_endpoint_gets_https() {
        assert_eq!(
            base("sdk-api.agb.cloud").to_string(),
            "https://sdk-api.agb.cloud"
        );
        assert_eq!(base("127.0.0.1:8080").to_string(), "https://127.0.0.1:8080");
    }

    #[test]
    fn explicit_scheme_is_kept() {
        assert_eq!(
            base("http://127.0.0.1:8080").to_string(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn trailing_slashes_collapse_and_prefix_is_kept() {
        let url = base("http://host/prefix//");
        assert_eq!(url.prefix(), "/prefix");
        assert_eq!(
            url.join("/mcp/getSession").expect("joins").to_string(),
            "http://host/prefix/mcp/getSession"
        );
        assert_eq!(
            base("http://host/")
                .join("//mcp")
                .expect("joins")
                .to_string(),
            "http://host/mcp"
        );
        assert_eq!(
            base("http://host")
                .join("mcp?a=b//c")
                .expect("joins")
                .to_string(),
            "http://host/mcp?a=b//c"
        );
    }

    #[test]
    fn rejects_empty_and_query() {
        assert!(BaseUrl::parse("  ").is_err());
        assert!(BaseUrl::parse("http://host/?x=1").is_err());
        assert!(BaseUrl::parse("http://").is_err());
    }

    #[test]
    fn same_origin_compares_scheme_and_authority() {
        let url = base("http://Host:8080/p");
        assert!(url.same_origin(&"http://host:8080/other".parse().expect("uri")));
        assert!(!url.same_origin(&"https://host:8080/p".parse().expect("uri")));
        assert!(!url.same_origin(&"http://host:8081/p".parse().expect("uri")));
        assert!(!url.same_origin(&"/relative".parse().expect("uri")));
    }
}
