//! `run_code`: stateful kernels per session and language, results in the "new" format (§4.2).

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::kernel::{EventSink, ExecResult, Execution, KernelError};
use agbcloud_wire::tools::ToolCallData;
use agbcloud_wire::tools::code::{ExecutionResult, RunCodeArgs, RunCodeReport};
use serde_json::{Map, Value};

use crate::envelope::ApiError;
use crate::registry::Session;

/// Largest accepted `timeout_s` (one hour).
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The timeout of a run asking for `seconds` (0: the SDK default of 60 s).
pub fn timeout(seconds: u64) -> Duration {
    if seconds == 0 {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(seconds).min(MAX_TIMEOUT)
    }
}

/// Runs `code` in the session's kernel for `language`, sending events to `events` as they
/// happen.
pub async fn execute(
    session: &Session,
    language: &str,
    code: &str,
    timeout: Duration,
    events: Option<&EventSink>,
) -> Result<Execution, KernelError> {
    session
        .kernels
        .execute(language, code, timeout, events)
        .await
}

/// A rich output as a MIME map (the stream's `result.mime`).
pub fn mime_map(result: &ExecResult) -> Map<String, Value> {
    result
        .data
        .iter()
        .map(|(mime, value)| (mime.clone(), value.clone()))
        .collect()
}

/// `"<Ename>: <evalue>"` of a failed execution.
pub fn execution_error(execution: &Execution) -> Option<String> {
    execution.error.as_ref().map(|error| {
        if error.value.is_empty() {
            error.name.clone()
        } else {
            format!("{}: {}", error.name, error.value)
        }
    })
}

/// The "new" result format of an execution; code errors are data, not tool errors.
pub fn report(execution: &Execution) -> RunCodeReport {
    let result = execution
        .results
        .iter()
        .map(|item| {
            let mut object = mime_map(item);
            object.insert("isMainResult".into(), Value::Bool(item.is_main_result));
            ExecutionResult::from_item(&Value::Object(object))
        })
        .collect();
    let mut stderr = execution.stderr.clone();
    if let Some(error) = &execution.error {
        let traceback = error.traceback.trim_end();
        if !traceback.is_empty() && !execution.stderr_text().contains(traceback) {
            stderr.push(format!("{traceback}\n"));
        }
    }
    RunCodeReport {
        result,
        stdout: execution.stdout.clone(),
        stderr,
        execution_count: i64::try_from(execution.execution_count).ok(),
        execution_time: execution.execution_time.as_secs_f64(),
        execution_error: execution_error(execution).unwrap_or_default(),
    }
}

/// The `run_code` tool.
pub async fn run(session: &Arc<Session>, args: RunCodeArgs) -> Result<ToolCallData, ApiError> {
    let language = args.language.as_str();
    match execute(session, language, &args.code, timeout(args.timeout_s), None).await {
        Ok(execution) => Ok(ToolCallData::ok(report(&execution).render())),
        Err(err) => Ok(ToolCallData::error(err.to_string())),
    }
}
