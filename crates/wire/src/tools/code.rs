//! The `run_code` tool (§4.2): arguments, every accepted result format, and the server rendering.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{ToolArgs, ToolCallData, ToolOutput};

/// Default `timeout_s` of the SDK's `Code.run`.
pub const DEFAULT_TIMEOUT_S: u64 = 60;

/// A language `run_code` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// `python` (aliases `py`, `python3`).
    Python,
    /// `javascript` (aliases `js`, `node`, `nodejs`).
    JavaScript,
    /// `java` (JShell-style snippets).
    Java,
    /// `r`.
    R,
}

/// A language name the SDK refuses before sending anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported language: {0}. Supported languages are java, javascript, python, r")]
pub struct UnsupportedLanguage(pub String);

impl Language {
    /// Parses a language name as the SDK does: trimmed, case-insensitive, with aliases.
    pub fn parse(raw: &str) -> Result<Self, UnsupportedLanguage> {
        match raw.trim().to_lowercase().as_str() {
            "python" | "py" | "python3" => Ok(Self::Python),
            "javascript" | "js" | "node" | "nodejs" => Ok(Self::JavaScript),
            "java" => Ok(Self::Java),
            "r" => Ok(Self::R),
            _ => Err(UnsupportedLanguage(raw.to_owned())),
        }
    }

    /// The canonical wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::JavaScript => "javascript",
            Self::Java => "java",
            Self::R => "r",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// `run_code` arguments: `{"code", "language", "timeout_s"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCodeArgs {
    /// The source code.
    pub code: String,
    /// The language.
    pub language: Language,
    /// Execution timeout in seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

fn default_timeout_s() -> u64 {
    DEFAULT_TIMEOUT_S
}

impl RunCodeArgs {
    /// `code` in `language` with the default timeout.
    pub fn new(code: impl Into<String>, language: Language) -> Self {
        Self {
            code: code.into(),
            language,
            timeout_s: DEFAULT_TIMEOUT_S,
        }
    }
}

impl ToolArgs for RunCodeArgs {
    const NAME: &'static str = "run_code";
}

/// One output of a run: the last expression's value or a display output, by MIME type.
///
/// Serialises with MIME-type keys (`text/plain`, `image/png`, ...) and `isMainResult`;
/// decoding also accepts the short keys (`text`, `png`, ..., `chart`, `is_main_result`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExecutionResult {
    /// `text/plain`.
    #[serde(
        rename = "text/plain",
        alias = "text",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
    /// `text/html`.
    #[serde(
        rename = "text/html",
        alias = "html",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub html: Option<String>,
    /// `text/markdown`.
    #[serde(
        rename = "text/markdown",
        alias = "markdown",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub markdown: Option<String>,
    /// `image/png`, base64.
    #[serde(
        rename = "image/png",
        alias = "png",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub png: Option<String>,
    /// `image/jpeg`, base64.
    #[serde(
        rename = "image/jpeg",
        alias = "jpeg",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub jpeg: Option<String>,
    /// `image/svg+xml`.
    #[serde(
        rename = "image/svg+xml",
        alias = "svg",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub svg: Option<String>,
    /// `application/json`: any JSON value.
    #[serde(
        rename = "application/json",
        alias = "json",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub json: Option<Value>,
    /// `text/latex`.
    #[serde(
        rename = "text/latex",
        alias = "latex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub latex: Option<String>,
    /// A Vega-Lite chart (`application/vnd.vegalite.v5+json`, v4 or `chart`): a JSON object.
    #[serde(
        rename = "application/vnd.vegalite.v5+json",
        alias = "application/vnd.vegalite.v4+json",
        alias = "chart",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub chart: Option<Map<String, Value>>,
    /// True only for the last expression's value.
    #[serde(rename = "isMainResult", alias = "is_main_result", default)]
    pub is_main_result: bool,
}

impl ExecutionResult {
    /// A plain-text result.
    pub fn text(text: impl Into<String>, is_main_result: bool) -> Self {
        Self {
            text: Some(text.into()),
            is_main_result,
            ..Self::default()
        }
    }

    /// Decodes a result item: an object keyed by MIME type, a JSON string of one (even doubly
    /// encoded), or a plain string (taken as text). Unusable values are ignored.
    pub fn from_item(item: &Value) -> Self {
        match item {
            Value::Object(_) => {
                serde_json::from_value(item.clone()).unwrap_or_else(|_| Self::lenient(item))
            }
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(inner @ (Value::Object(_) | Value::String(_))) => Self::from_item(&inner),
                _ => Self::text(text.clone(), false),
            },
            other => Self::text(other.to_string(), false),
        }
    }

    fn lenient(item: &Value) -> Self {
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|key| item.get(key))
                .map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
        };
        let first = |keys: &[&str]| keys.iter().find_map(|key| item.get(key)).cloned();
        Self {
            text: text(&["text/plain", "text"]),
            html: text(&["text/html", "html"]),
            markdown: text(&["text/markdown", "markdown"]),
            png: text(&["image/png", "png"]),
            jpeg: text(&["image/jpeg", "jpeg"]),
            svg: text(&["image/svg+xml", "svg"]),
            json: first(&["application/json", "json"]),
            latex: text(&["text/latex", "latex"]),
            chart: first(&[
                "application/vnd.vegalite.v5+json",
                "application/vnd.vegalite.v4+json",
                "chart",
            ])
            .and_then(|chart| match chart {
                Value::Object(map) => Some(map),
                _ => None,
            }),
            is_main_result: first(&["isMainResult", "is_main_result"])
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    }
}

/// Standard output and error of a run, as lists of chunks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecutionLogs {
    /// Standard output chunks.
    #[serde(default)]
    pub stdout: Vec<String>,
    /// Standard error chunks.
    #[serde(default)]
    pub stderr: Vec<String>,
}

/// An error raised by the executed code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecutionError {
    /// Exception name, e.g. `NameError`.
    #[serde(default)]
    pub name: String,
    /// Exception value (message).
    #[serde(default)]
    pub value: String,
    /// Traceback text.
    #[serde(default)]
    pub traceback: String,
}

/// The outcome of a `run_code` call (the SDK's `EnhancedCodeExecutionResult` minus request id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodeExecution {
    /// False for code errors and failed calls.
    pub success: bool,
    /// Jupyter-style execution counter.
    pub execution_count: Option<i64>,
    /// Seconds.
    pub execution_time: f64,
    /// Captured output.
    pub logs: ExecutionLogs,
    /// Main result and display outputs.
    pub results: Vec<ExecutionResult>,
    /// The code's error, if any.
    pub error: Option<ExecutionError>,
    /// Empty on success.
    pub error_message: String,
}

impl CodeExecution {
    /// Client side: the outcome of a `run_code` call from its [`ToolOutput`]: a failed call
    /// is a failed run with the call's error message; otherwise the text is parsed.
    pub fn from_tool_output(output: &ToolOutput) -> Self {
        if output.success {
            parse_run_code_result(output.text.as_deref().unwrap_or_default())
        } else {
            Self::failure(output.error_message.clone())
        }
    }

    /// A failed run with just a message.
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            error_message: message.into(),
            ..Self::default()
        }
    }

    /// The SDK's `result` property: main result text, else first result text, else joined
    /// stdout, else `""`.
    pub fn main_text(&self) -> String {
        self.results
            .iter()
            .find(|result| result.is_main_result)
            .and_then(|result| result.text.clone())
            .or_else(|| self.results.iter().find_map(|result| result.text.clone()))
            .unwrap_or_else(|| self.logs.stdout.concat())
    }
}

/// Parses a `run_code` result text, accepting every format of §4.2 (client side), as the
/// official SDK's `Code._parse_run_code_result` does.
pub fn parse_run_code_result(text: &str) -> CodeExecution {
    if text.is_empty() {
        return CodeExecution::failure("No data returned");
    }
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(text) else {
        return plain_text(text);
    };
    if let Some(inner) = legacy_wrapped(&object) {
        object = inner;
    }
    if object.get("isError").and_then(Value::as_bool) == Some(true) {
        let texts = content_texts(&object);
        return CodeExecution::failure(format!("Error in response: {}", texts.join("; ")));
    }
    if let Some(Value::Array(items)) = object.get("result") {
        return new_format(&object, items);
    }
    if object.contains_key("logs") || object.contains_key("results") {
        return rich_format(&object);
    }
    if let Some(content) = object.get("content") {
        let first_text = content.get(0).and_then(|item| item.get("text")?.as_str());
        return match first_text {
            Some(text) => plain_text(text),
            None => CodeExecution::failure("No content found in response"),
        };
    }
    plain_text(&Value::Object(object).to_string())
}

fn plain_text(text: &str) -> CodeExecution {
    CodeExecution {
        success: true,
        logs: ExecutionLogs {
            stdout: vec![text.to_owned()],
            stderr: Vec::new(),
        },
        results: vec![ExecutionResult::text(text, true)],
        ..CodeExecution::default()
    }
}

/// The texts of `content` items (objects only); an item without text reads "Unknown error".
fn content_texts(object: &Map<String, Value>) -> Vec<&str> {
    let Some(items) = object.get("content").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|item| item.is_object())
        .map(|item| {
            item.get("text")
                .and_then(Value::as_str)
                .unwrap_or("Unknown error")
        })
        .collect()
}

/// Legacy wrapping: `content[0].text` holds a JSON object with `result` or `executionError`.
fn legacy_wrapped(object: &Map<String, Value>) -> Option<Map<String, Value>> {
    let text = object.get("content")?.get(0)?.get("text")?.as_str()?;
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Object(inner)
            if inner.contains_key("result") || inner.contains_key("executionError") =>
        {
            Some(inner)
        }
        _ => None,
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

fn execution_count(object: &Map<String, Value>) -> Option<i64> {
    object.get("execution_count").and_then(Value::as_i64)
}

fn execution_time(object: &Map<String, Value>) -> f64 {
    object
        .get("execution_time")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

/// `executionError` as Python's `str(exec_error) if exec_error else ""`.
fn execution_error(object: &Map<String, Value>) -> String {
    match object.get("executionError") {
        None | Some(Value::Null | Value::Bool(false)) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) if number.as_f64() == Some(0.0) => String::new(),
        Some(Value::Array(items)) if items.is_empty() => String::new(),
        Some(Value::Object(map)) if map.is_empty() => String::new(),
        Some(other) => other.to_string(),
    }
}

fn new_format(object: &Map<String, Value>, items: &[Value]) -> CodeExecution {
    let execution_error = execution_error(object);
    let failed = !execution_error.is_empty();
    CodeExecution {
        success: !failed,
        execution_count: execution_count(object),
        execution_time: execution_time(object),
        logs: ExecutionLogs {
            stdout: string_list(object.get("stdout")),
            stderr: string_list(object.get("stderr")),
        },
        results: items.iter().map(ExecutionResult::from_item).collect(),
        error: failed.then(|| ExecutionError {
            name: "ExecutionError".to_owned(),
            value: execution_error.clone(),
            traceback: String::new(),
        }),
        error_message: execution_error,
    }
}

/// The rich format: `logs`, `results`, `error{name,value,traceback}`, `isError`. The error
/// message is set whenever an error object is present; success depends only on `isError`.
fn rich_format(object: &Map<String, Value>) -> CodeExecution {
    let logs = object.get("logs");
    let error = object
        .get("error")
        .and_then(Value::as_object)
        .filter(|error| !error.is_empty())
        .map(|error| {
            let field = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
            ExecutionError {
                name: field("name").unwrap_or_else(|| "UnknownError".to_owned()),
                value: field("value").unwrap_or_default(),
                traceback: field("traceback").unwrap_or_default(),
            }
        });
    let error_message = match &error {
        Some(error) if !error.value.is_empty() => error.value.clone(),
        Some(error) => error.name.clone(),
        None => String::new(),
    };
    CodeExecution {
        success: object.get("isError").and_then(Value::as_bool) != Some(true),
        execution_count: execution_count(object),
        execution_time: execution_time(object),
        logs: ExecutionLogs {
            stdout: string_list(logs.and_then(|logs| logs.get("stdout"))),
            stderr: string_list(logs.and_then(|logs| logs.get("stderr"))),
        },
        results: object
            .get("results")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(ExecutionResult::from_item).collect())
            .unwrap_or_default(),
        error,
        error_message,
    }
}

/// The result text a server returns for `run_code`: the preferred ("new") format of §4.2.
///
/// Code errors are not tool errors: return this with `isError: false` and set
/// `execution_error` to `"<Ename>: <evalue>"` with the traceback in `stderr`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunCodeReport {
    /// Display outputs and the main result (`isMainResult: true` only for the last expression).
    #[serde(default)]
    pub result: Vec<ExecutionResult>,
    /// Standard output chunks.
    #[serde(default)]
    pub stdout: Vec<String>,
    /// Standard error chunks.
    #[serde(default)]
    pub stderr: Vec<String>,
    /// Execution counter.
    #[serde(default)]
    pub execution_count: Option<i64>,
    /// Seconds.
    #[serde(default)]
    pub execution_time: f64,
    /// `"<Ename>: <evalue>"` on a code error; omitted when empty.
    #[serde(
        rename = "executionError",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub execution_error: String,
}

impl RunCodeReport {
    /// Renders the result text (server side).
    pub fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The tool-call data a server returns: always `isError: false` (code errors are data).
    pub fn to_tool_data(&self) -> ToolCallData {
        ToolCallData::ok(self.render())
    }
}
