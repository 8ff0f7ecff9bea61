//! The `shell` tool (§4.1): arguments, the JSON result text, and the SDK's parsing of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ToolArgs, ToolCallData, ToolOutput};

/// Default `timeout_ms` of the SDK's `Command.execute`.
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;

/// `shell` arguments: `{"command", "timeout_ms", "cwd"?, "envs"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellArgs {
    /// The command line, run with `sh -c`.
    pub command: String,
    /// Kill the command after this many milliseconds (absent in raw calls: pick a default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Working directory for this call only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Extra environment for this call only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envs: Option<BTreeMap<String, String>>,
}

impl ShellArgs {
    /// `command` with the SDK's default timeout.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            timeout_ms: Some(DEFAULT_TIMEOUT_MS),
            cwd: None,
            envs: None,
        }
    }
}

impl ToolArgs for ShellArgs {
    const NAME: &'static str = "shell";
}

/// The JSON text a `shell` call returns: `{"stdout", "stderr", "exit_code", "errorCode"?, "traceId"}`.
///
/// Servers return it with `isError: false` for exit code 0 and `isError: true` (with
/// `errorCode` equal to `exit_code`) otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShellReport {
    /// Captured standard output.
    #[serde(default)]
    pub stdout: String,
    /// Captured standard error.
    #[serde(default)]
    pub stderr: String,
    /// The exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Same value as `exit_code` on failures.
    #[serde(default, rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// Trace id for support.
    #[serde(default, rename = "traceId")]
    pub trace_id: String,
}

impl ShellReport {
    /// A report for a finished process; `errorCode` is set when the exit code is non-zero.
    pub fn finished(stdout: impl Into<String>, stderr: impl Into<String>, exit_code: i64) -> Self {
        Self {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code: Some(exit_code),
            error_code: (exit_code != 0).then_some(exit_code),
            trace_id: String::new(),
        }
    }

    /// Whether the server should flag the result `isError` (non-zero or missing exit code).
    pub fn is_error(&self) -> bool {
        self.exit_code != Some(0)
    }

    /// Renders the result text (server side).
    pub fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The tool-call data a server returns: the rendered text, `isError` unless exit code 0.
    pub fn to_tool_data(&self) -> ToolCallData {
        if self.is_error() {
            ToolCallData::error(self.render())
        } else {
            ToolCallData::ok(self.render())
        }
    }
}

/// A command's outcome as the SDK reports it (`CommandResult`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutcome {
    /// Exit code 0 on the success path; always false on the error path.
    pub success: bool,
    /// The exit code; `None` when the text was not a JSON object.
    pub exit_code: Option<i64>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// `stdout + stderr`, or the raw text when it was not JSON (success path).
    pub output: String,
    /// Trace id.
    pub trace_id: String,
    /// Empty on success.
    pub error_message: String,
}

impl CommandOutcome {
    /// Client side: the outcome of a `shell` call from its [`ToolOutput`]; a failed call's
    /// error message is parsed as the tool's JSON when it is one (§4.1 error path).
    pub fn from_tool_output(output: &ToolOutput) -> Self {
        if output.success {
            parse_shell_result(output.text.as_deref().unwrap_or_default(), false)
        } else {
            parse_shell_result(&output.error_message, true)
        }
    }
}

/// Parses a `shell` result (client side, §4.1).
///
/// `is_error` is the tool's `isError` (or an API failure, with the error message as `text`).
pub fn parse_shell_result(text: &str, is_error: bool) -> CommandOutcome {
    let object = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|value| match value {
            Value::Object(map) => Some(map),
            _ => None,
        });
    let field = |map: &serde_json::Map<String, Value>, key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let int =
        |map: &serde_json::Map<String, Value>, key: &str| map.get(key).and_then(Value::as_i64);
    match (object, is_error) {
        (Some(map), false) => {
            let (stdout, stderr) = (field(&map, "stdout"), field(&map, "stderr"));
            let exit_code = int(&map, "exit_code").unwrap_or(0);
            CommandOutcome {
                success: exit_code == 0,
                exit_code: Some(exit_code),
                output: format!("{stdout}{stderr}"),
                trace_id: field(&map, "traceId"),
                stdout,
                stderr,
                error_message: String::new(),
            }
        }
        (None, false) => CommandOutcome {
            success: true,
            output: text.to_owned(),
            ..CommandOutcome::default()
        },
        (Some(map), true) => {
            let (stdout, stderr) = (field(&map, "stdout"), field(&map, "stderr"));
            let exit_code = int(&map, "exit_code")
                .or_else(|| int(&map, "errorCode"))
                .unwrap_or(0);
            let error_message = if !stderr.is_empty() {
                stderr.clone()
            } else if !text.is_empty() {
                text.to_owned()
            } else {
                "Failed to execute command".to_owned()
            };
            CommandOutcome {
                success: false,
                exit_code: Some(exit_code),
                output: format!("{stdout}{stderr}"),
                trace_id: field(&map, "traceId"),
                stdout,
                stderr,
                error_message,
            }
        }
        (None, true) => CommandOutcome {
            error_message: if text.is_empty() {
                "Failed to execute command".to_owned()
            } else {
                text.to_owned()
            },
            ..CommandOutcome::default()
        },
    }
}
