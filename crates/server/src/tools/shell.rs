//! `shell`: `sh -c` in the sandbox with cwd, env and timeout; waits for the shell to exit.

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::{CommandSpec, SandboxError};
use agbcloud_wire::tools::ToolCallData;
use agbcloud_wire::tools::shell::{ShellArgs, ShellReport};

use crate::envelope::ApiError;
use crate::registry::Session;

/// Timeout of a `shell` call that sends no `timeout_ms`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest accepted `timeout_ms` (a day).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Runs a command; a non-zero exit, a timeout or a spawn failure is an `isError` result
/// carrying the same JSON (§4.1).
pub async fn run(session: &Arc<Session>, args: ShellArgs) -> Result<ToolCallData, ApiError> {
    let timeout = args
        .timeout_ms
        .filter(|ms| *ms > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
        .min(MAX_TIMEOUT);
    let mut spec = CommandSpec::new(args.command).timeout(timeout);
    if let Some(cwd) = args.cwd.filter(|cwd| !cwd.is_empty()) {
        if !cwd.starts_with('/') {
            return Err(ApiError::invalid(format!(
                "invalid arguments for tool `shell`: cwd {cwd:?} is not an absolute path"
            )));
        }
        let is_dir = session
            .sandbox
            .files()
            .and_then(|files| files.stat(&cwd))
            .map(|meta| meta.is_dir);
        if !matches!(is_dir, Ok(true)) {
            let report =
                ShellReport::finished("", format!("sh: cd: {cwd}: No such file or directory\n"), 2);
            return Ok(ToolCallData::error(report.render()));
        }
        spec = spec.cwd(cwd);
    }
    for (key, value) in args.envs.unwrap_or_default() {
        spec = spec.env(key, value);
    }
    match session.sandbox.exec(spec).await {
        Ok(output) => {
            let mut stderr = output.stderr_str();
            if let Some(limit) = output.limit_error() {
                if !stderr.is_empty() && !stderr.ends_with('\n') {
                    stderr.push('\n');
                }
                stderr.push_str(&limit);
                stderr.push('\n');
            }
            let code = if output.timed_out && output.exit_code() == 0 {
                124
            } else {
                i64::from(output.exit_code())
            };
            let report = ShellReport::finished(output.stdout_str(), stderr, code);
            Ok(if report.is_error() {
                ToolCallData::error(report.render())
            } else {
                ToolCallData::ok(report.render())
            })
        }
        Err(SandboxError::Gone(_)) => Err(ApiError::session_not_found()),
        Err(err) => {
            let report = ShellReport::finished("", format!("{err}\n"), 127);
            Ok(ToolCallData::error(report.render()))
        }
    }
}
