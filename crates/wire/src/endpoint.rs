//! Endpoint descriptors: what the transport needs to know about each REST call.

use std::fmt;

/// The HTTP method of an endpoint. The AGB API uses only these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: parameters in the query string, no body.
    Get,
    /// `POST`: a JSON body (`{}` when the endpoint has no body fields).
    Post,
}

impl Method {
    /// The method as sent on the wire: `"GET"` or `"POST"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a response to an endpoint is judged successful (agb-protocol.md §1.6).
///
/// The official Python SDK uses a different rule per response type; a client that wants the
/// same behaviour reads the rule from the descriptor. A server that answers HTTP 200 with
/// `success: true` satisfies every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuccessRule {
    /// HTTP status below 400 and envelope `success` is JSON `true` (`S && A`).
    StatusBelow400,
    /// HTTP status exactly 200 and envelope `success` is JSON `true` (`200 && A`, which is
    /// also `S && 200 && A`).
    Status200,
    /// HTTP status exactly 200; the envelope's `success` is ignored (`getMcpResource`).
    Status200IgnoreEnvelope,
    /// Judged by the data, not the envelope: `data.success` must not be `false` and
    /// `data.sessionId` must be present (`createSession`, §8.1).
    SessionCreated,
}

/// A REST endpoint of the AGB API, described once (generated from `api/agb-api.toml`).
///
/// **Idempotency rule**: an endpoint is idempotent when sending it twice has the same effect as
/// sending it once, so the transport may retry it after a timeout or a 502/504, when it cannot
/// know whether the first attempt reached the server. Reads (getSession, getSessionInfo,
/// ListSession, GetLabel, listTools, getMcpResource, getLink, ListContexts, GetContextInfo,
/// GetContext without `allowCreate`, the presigned-URL lookups) are idempotent, and so are
/// calls that set state to a given value (SetLabel replaces the label set,
/// refreshSessionIdleTime restarts a timer, ModifyContext renames). Calls that create
/// something or act (createSession, tool calls, releases, deletes, clear, sync) are not.
/// Connect errors, 429 and 503 mean the server did not act, so every call may be retried then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The operation name, e.g. `"CreateSession"`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path, appended verbatim to the base URL, e.g. `"/mcp/createSession"`.
    pub path: &'static str,
    /// Parameter names sent in the query string, in the order the official SDK sends them.
    pub query: &'static [&'static str],
    /// Field names of the JSON body, in the order the official SDK sends them.
    pub body: &'static [&'static str],
    /// Whether a retry after an ambiguous failure is safe (see the rule above).
    pub idempotent: bool,
    /// A boolean parameter that, when `true`, makes an otherwise idempotent call create
    /// something and so not idempotent (`allowCreate` of GetContext).
    pub idempotent_unless: Option<&'static str>,
    /// How the response's success is judged.
    pub success: SuccessRule,
}

impl Endpoint {
    /// True when `name` is one of the query parameters.
    pub fn has_query_param(&self, name: &str) -> bool {
        self.query.contains(&name)
    }

    /// True when `name` is one of the body fields.
    pub fn has_body_field(&self, name: &str) -> bool {
        self.body.contains(&name)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.name)
    }
}

/// The endpoint serving `method` and `path`; repeated slashes in `path` are collapsed (the
/// Python SDK produces `//mcp` when the endpoint has a trailing slash).
pub fn find(method: Method, path: &str) -> Option<&'static Endpoint> {
    let mut normalised = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && normalised.ends_with('/')) {
            normalised.push(c);
        }
    }
    crate::endpoints::ALL
        .iter()
        .copied()
        .find(|endpoint| endpoint.method == method && endpoint.path == normalised)
}
