//! The `get_metrics` tool (§4.4).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{NoArgs, ToolArgs};
use crate::error::WireError;

/// `get_metrics` takes no arguments.
pub type GetMetricsArgs = NoArgs;

impl ToolArgs for NoArgs {
    const NAME: &'static str = "get_metrics";
}

/// Sandbox resource metrics. All fields optional; memory and disk in bytes.
///
/// Network fields accept the aliases `*_kbps`, `*_KBps`, `*_kb`, `*_KB` when decoding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of CPUs (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_count: Option<u32>,
    /// CPU use in percent, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_used_pct: Option<f64>,
    /// Total memory, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_total: Option<u64>,
    /// Used memory, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_used: Option<u64>,
    /// Total disk, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_total: Option<u64>,
    /// Used disk, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_used: Option<u64>,
    /// Receive rate, KiB/s.
    #[serde(
        default,
        alias = "rx_rate_kbps",
        alias = "rx_rate_KBps",
        skip_serializing_if = "Option::is_none"
    )]
    pub rx_rate_kbyte_per_s: Option<f64>,
    /// Transmit rate, KiB/s.
    #[serde(
        default,
        alias = "tx_rate_kbps",
        alias = "tx_rate_KBps",
        skip_serializing_if = "Option::is_none"
    )]
    pub tx_rate_kbyte_per_s: Option<f64>,
    /// Received so far, KiB.
    #[serde(
        default,
        alias = "rx_used_kb",
        alias = "rx_used_KB",
        skip_serializing_if = "Option::is_none"
    )]
    pub rx_used_kbyte: Option<f64>,
    /// Sent so far, KiB.
    #[serde(
        default,
        alias = "tx_used_kb",
        alias = "tx_used_KB",
        skip_serializing_if = "Option::is_none"
    )]
    pub tx_used_kbyte: Option<f64>,
    /// Sample time, e.g. `2026-01-10T08:00:00Z` (non-empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl Metrics {
    /// Parses the result text; anything but a JSON object is an error.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let value: Value =
            serde_json::from_str(text).map_err(|err| WireError::json("get_metrics result", err))?;
        if !value.is_object() {
            return Err(WireError::NotA {
                what: "get_metrics result",
                expected: "a JSON object",
            });
        }
        serde_json::from_value(value).map_err(|err| WireError::json("get_metrics result", err))
    }

    /// Renders the result text (server side).
    pub fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
