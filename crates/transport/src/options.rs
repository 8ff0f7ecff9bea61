//! Per-call options: idempotency, a name for tracing, timeout overrides.

use std::borrow::Cow;
use std::time::Duration;

/// How one call is sent: whether it may be retried after it might have reached the server,
/// what to call it in traces, and timeouts that override the client's.
///
/// The session crate fills `idempotent` from the endpoint descriptor.
///
/// ```
/// use std::time::Duration;
/// use agbcloud_transport::CallOptions;
///
/// let get = CallOptions::idempotent("GetSession");
/// // A 10-minute code run: neither the attempt nor the operation limit may cut it.
/// let run = CallOptions::non_idempotent("CallMcpTool").timeout(Duration::from_secs(605));
/// assert!(get.is_idempotent() && !run.is_idempotent());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOptions {
    name: Cow<'static, str>,
    idempotent: bool,
    attempt_timeout: Option<Option<Duration>>,
    operation_timeout: Option<Option<Duration>>,
    authenticate: bool,
}

impl CallOptions {
    /// Options for the call `name` (an endpoint or operation name used in traces).
    pub fn new(name: impl Into<Cow<'static, str>>, idempotent: bool) -> Self {
        Self {
            name: name.into(),
            idempotent,
            attempt_timeout: None,
            operation_timeout: None,
            authenticate: true,
        }
    }

    /// A call that may safely be repeated (get, list, delete by id, read).
    pub fn idempotent(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, true)
    }

    /// A call that must not run twice (create, run code, run a command).
    pub fn non_idempotent(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, false)
    }

    /// Overrides the per-attempt timeout for this call (`None`: no limit).
    #[must_use]
    pub fn attempt_timeout(mut self, limit: Option<Duration>) -> Self {
        self.attempt_timeout = Some(limit);
        self
    }

    /// Overrides the whole-operation timeout for this call (`None`: no limit).
    #[must_use]
    pub fn operation_timeout(mut self, limit: Option<Duration>) -> Self {
        self.operation_timeout = Some(limit);
        self
    }

    /// Sets both the attempt and the operation timeout of this call to `limit`.
    #[must_use]
    pub fn timeout(self, limit: Duration) -> Self {
        self.attempt_timeout(Some(limit))
            .operation_timeout(Some(limit))
    }

    /// Sends this call without the client's `authorization` header.
    #[must_use]
    pub fn without_auth(mut self) -> Self {
        self.authenticate = false;
        self
    }

    /// The call's name in traces.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the call may be repeated.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// The attempt timeout, given the client's default.
    pub fn effective_attempt_timeout(&self, default: Option<Duration>) -> Option<Duration> {
        self.attempt_timeout.unwrap_or(default)
    }

    /// The operation timeout, given the client's default.
    pub fn effective_operation_timeout(&self, default: Option<Duration>) -> Option<Duration> {
        self.operation_timeout.unwrap_or(default)
    }

    /// Whether the client's `authorization` header is added.
    pub fn authenticates(&self) -> bool {
        self.authenticate
    }
}

impl Default for CallOptions {
    /// An unnamed, non-idempotent call.
    fn default() -> Self {
        Self::non_idempotent("request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_fall_back_to_defaults() {
        let default = Some(Duration::from_secs(60));
        let plain = CallOptions::idempotent("GetSession");
        assert_eq!(plain.effective_attempt_timeout(default), default);
        let long = plain.clone().timeout(Duration::from_secs(600));
        assert_eq!(
            long.effective_attempt_timeout(default),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            long.effective_operation_timeout(None),
            Some(Duration::from_secs(600))
        );
        let unbounded = plain.attempt_timeout(None);
        assert_eq!(unbounded.effective_attempt_timeout(default), None);
    }
}
