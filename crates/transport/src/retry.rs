//! Retry policy: which outcomes are retried, and how many times.
//!
//! All classification lives in [`classify`]:
//!
//! | outcome | idempotent call | non-idempotent call |
//! |---|---|---|
//! | connect failure (request not sent) | retry | retry |
//! | 429, 503 (server refused the work) | retry, honouring `Retry-After` | same |
//! | timeout, reset after sending, truncated body | retry | never |
//! | 502, 504 (an upstream may have acted) | retry | never |
//! | TLS failure, invalid request, other 4xx/5xx | never | never |

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};

use crate::backoff::Backoff;
use crate::budget::BudgetConfig;
use crate::error::{ErrorKind, TransportError};

/// How many times and for how long a call may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    max_attempts: u32,
    backoff: Backoff,
    retry_timeout: Duration,
    max_retry_after: Duration,
    budget: Option<BudgetConfig>,
}

impl Default for RetryConfig {
    /// 4 attempts, backoff from 100 ms up to 5 s, retries stop 30 s after the first attempt
    /// started, `Retry-After` honoured up to 30 s, the default [`BudgetConfig`].
    fn default() -> Self {
        Self {
            max_attempts: 4,
            backoff: Backoff::default(),
            retry_timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
            budget: Some(BudgetConfig::default()),
        }
    }
}

impl RetryConfig {
    /// No retries at all: one attempt.
    pub fn disabled() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in total, the first included (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff between attempts.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// No retry starts later than this after the first attempt started.
    #[must_use]
    pub fn retry_timeout(mut self, limit: Duration) -> Self {
        self.retry_timeout = limit;
        self
    }

    /// The longest `Retry-After` we wait for; a longer one ends the retries.
    #[must_use]
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The per-client retry budget; `None` for no budget.
    #[must_use]
    pub fn budget(mut self, budget: Option<BudgetConfig>) -> Self {
        self.budget = budget;
        self
    }

    /// Attempts in total.
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff between attempts.
    pub fn get_backoff(&self) -> Backoff {
        self.backoff
    }

    /// The total retry time.
    pub fn get_retry_timeout(&self) -> Duration {
        self.retry_timeout
    }

    /// The longest honoured `Retry-After`.
    pub fn get_max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The retry budget.
    pub fn get_budget(&self) -> Option<BudgetConfig> {
        self.budget
    }
}

/// Why an outcome may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryKind {
    /// The request never left: a connect failure. Safe for every call.
    NotSent,
    /// The server refused the work (429, 503). Safe for every call.
    Throttling,
    /// A timeout or a connection lost after sending. Idempotent calls only.
    Transient,
    /// 502 or 504: an upstream may already have acted. Idempotent calls only.
    Server,
}

/// The verdict of [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Return the outcome as it is.
    Done,
    /// The outcome may be retried.
    Retry {
        /// Why.
        kind: RetryKind,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

/// Decides whether an outcome may be retried, from the call's idempotency alone.
pub fn classify(
    outcome: Result<&Response<Bytes>, &TransportError>,
    idempotent: bool,
    now: SystemTime,
) -> RetryDecision {
    let retry = |kind| RetryDecision::Retry {
        kind,
        retry_after: None,
    };
    match outcome {
        Ok(response) => match response.status() {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                RetryDecision::Retry {
                    kind: RetryKind::Throttling,
                    retry_after: retry_after(response.headers(), now),
                }
            }
            StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT if idempotent => {
                retry(RetryKind::Server)
            }
            _ => RetryDecision::Done,
        },
        Err(error) => match error.kind() {
            ErrorKind::Connect => retry(RetryKind::NotSent),
            ErrorKind::Timeout | ErrorKind::Interrupted | ErrorKind::Body if idempotent => {
                retry(RetryKind::Transient)
            }
            _ => RetryDecision::Done,
        },
    }
}

/// Reads `Retry-After` as delay seconds or an HTTP date (a past date means no wait).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let (_weekday, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() || clock.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let days = u64::try_from(days).ok()?;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, retry_after: Option<&str>) -> Response<Bytes> {
        let mut builder = Response::builder().status(status);
        if let Some(value) = retry_after {
            builder = builder.header("retry-after", value);
        }
        builder.body(Bytes::new()).expect("valid response")
    }

    fn decide(status: u16, idempotent: bool) -> RetryDecision {
        classify(
            Ok(&response(status, None)),
            idempotent,
            SystemTime::UNIX_EPOCH,
        )
    }

    fn decide_err(error: TransportError, idempotent: bool) -> RetryDecision {
        classify(Err(&error), idempotent, SystemTime::UNIX_EPOCH)
    }

    fn is_retry(decision: RetryDecision) -> bool {
        matches!(decision, RetryDecision::Retry { .. })
    }

    #[test]
    fn throttling_is_always_retried() {
        for idempotent in [true, false] {
            assert!(is_retry(decide(429, idempotent)));
            assert!(is_retry(decide(503, idempotent)));
        }
    }

    #[test]
    fn gateway_errors_only_when_idempotent() {
        for status in [502, 504] {
            assert!(is_retry(decide(status, true)));
            assert!(!is_retry(decide(status, false)));
        }
    }

    #[test]
    fn success_and_other_statuses_are_final() {
        for status in [200, 201, 400, 401, 403, 404, 409, 500, 501] {
            assert_eq!(decide(status, true), RetryDecision::Done, "status {status}");
        }
    }

    #[test]
    fn connect_always_transient_only_when_idempotent() {
        for idempotent in [true, false] {
            assert!(is_retry(decide_err(
                TransportError::connect("refused"),
                idempotent
            )));
        }
        for make in [
            TransportError::timeout as fn(&'static str) -> TransportError,
            TransportError::interrupted,
            TransportError::body,
        ] {
            assert!(is_retry(decide_err(make("x"), true)));
            assert!(!is_retry(decide_err(make("x"), false)));
        }
        for make in [
            TransportError::tls as fn(&'static str) -> TransportError,
            TransportError::invalid_request,
            TransportError::other,
        ] {
            assert!(!is_retry(decide_err(make("x"), true)));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let seconds = classify(Ok(&response(503, Some("7"))), false, now);
        assert_eq!(
            seconds,
            RetryDecision::Retry {
                kind: RetryKind::Throttling,
                retry_after: Some(Duration::from_secs(7))
            }
        );
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
        let headers = response(429, Some("Sun, 06 Nov 1994 08:49:47 GMT"));
        assert_eq!(
            retry_after(headers.headers(), now),
            Some(Duration::from_secs(10))
        );
        let past = response(429, Some("Sun, 06 Nov 1994 08:49:30 GMT"));
        assert_eq!(retry_after(past.headers(), now), Some(Duration::ZERO));
        for bad in [
            "soon",
            "-1",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(
                retry_after(response(429, Some(bad)).headers(), now),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1994, 11, 6), 784_111_777 / 86_400);
    }
}
