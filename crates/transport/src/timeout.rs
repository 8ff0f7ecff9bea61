//! The three timeouts, kept apart.

use std::time::Duration;

/// The transport's time limits. `None` means no limit.
///
/// - `connect`: opening a TCP connection (used by the default client; the TLS handshake
///   counts against the attempt timeout).
/// - `attempt`: one attempt, from sending until the whole response body has arrived.
/// - `operation`: the whole call, all attempts and backoff delays included.
///
/// Calls whose duration is known to be long (code runs, commands) override the attempt and
/// operation limits per call with [`CallOptions`](crate::CallOptions) instead of raising
/// them for everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutConfig {
    connect: Option<Duration>,
    attempt: Option<Duration>,
    operation: Option<Duration>,
}

impl Default for TimeoutConfig {
    /// connect 10 s, attempt 60 s (the AGB SDKs' default request timeout), operation 5 min.
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(10)),
            attempt: Some(Duration::from_secs(60)),
            operation: Some(Duration::from_secs(300)),
        }
    }
}

impl TimeoutConfig {
    /// No limits at all.
    pub fn none() -> Self {
        Self {
            connect: None,
            attempt: None,
            operation: None,
        }
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect(mut self, limit: Option<Duration>) -> Self {
        self.connect = limit;
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn attempt(mut self, limit: Option<Duration>) -> Self {
        self.attempt = limit;
        self
    }

    /// Sets the whole-operation timeout.
    #[must_use]
    pub fn operation(mut self, limit: Option<Duration>) -> Self {
        self.operation = limit;
        self
    }

    /// The connect timeout.
    pub fn get_connect(&self) -> Option<Duration> {
        self.connect
    }

    /// The per-attempt timeout.
    pub fn get_attempt(&self) -> Option<Duration> {
        self.attempt
    }

    /// The whole-operation timeout.
    pub fn get_operation(&self) -> Option<Duration> {
        self.operation
    }
}
