//! WebSocket streaming frames (§7): text frames carrying JSON objects.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::WireError;
use crate::serde_util::{integer_or_none, number_or_zero};
use crate::tools::code::{CodeExecution, ExecutionError, ExecutionLogs, ExecutionResult};

/// The `source` of client frames and `target` of server frames.
pub const SDK: &str = "SDK";

/// The default stream target for `run_code` when `toolList` names none.
pub const DEFAULT_CODE_TARGET: &str = "wuying_codespace";

/// Client → server: start an invocation.
///
/// `{"invocationId", "source": "SDK", "target": <server>, "data": {"method", "mode", "params"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientFrame<P = Map<String, Value>> {
    /// 32 lower-case hex characters (a uuid4 without dashes), unique per call.
    pub invocation_id: String,
    /// Always `SDK`.
    pub source: String,
    /// The tool's server, e.g. `wuying_codespace`.
    pub target: String,
    /// What to run.
    pub data: InvocationRequest<P>,
}

/// The `data` of a [`ClientFrame`]; `P` is the typed params (a JSON object by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvocationRequest<P = Map<String, Value>> {
    /// The tool, e.g. `run_code`.
    pub method: String,
    /// `stream`.
    pub mode: String,
    /// Tool parameters (for `run_code`: [`StreamRunCodeParams`]).
    pub params: P,
}

/// `run_code` stream parameters; note the camelCase `timeoutS` (HTTP uses `timeout_s`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRunCodeParams {
    /// Canonical language name.
    pub language: String,
    /// Seconds.
    pub timeout_s: u64,
    /// Source code.
    pub code: String,
}

impl ClientFrame<StreamRunCodeParams> {
    /// A `run_code` stream invocation; encodes byte-for-byte like the Python client.
    pub fn run_code(
        invocation_id: impl Into<String>,
        target: impl Into<String>,
        params: StreamRunCodeParams,
    ) -> Self {
        Self {
            invocation_id: invocation_id.into(),
            source: SDK.to_owned(),
            target: target.into(),
            data: InvocationRequest {
                method: "run_code".to_owned(),
                mode: "stream".to_owned(),
                params,
            },
        }
    }

    /// Encodes the frame (compact JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ClientFrame {
    /// Server side: the params decoded as `P`, e.g. [`StreamRunCodeParams`].
    pub fn params_as<P: serde::de::DeserializeOwned>(&self) -> Result<P, WireError> {
        serde_json::from_value(Value::Object(self.data.params.clone()))
            .map_err(|err| WireError::json("stream invocation params", err))
    }
}

/// Any text frame a client may send: an invocation or the TypeScript keepalive `{"type":"ping"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClientMessage {
    /// An invocation.
    Invoke(ClientFrame),
    /// An application-level ping; ignore it.
    Ping {
        /// `ping`.
        #[serde(rename = "type")]
        kind: String,
    },
}

impl ClientMessage {
    /// Decodes a client text frame.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        serde_json::from_str(text).map_err(|err| WireError::json("client stream frame", err))
    }
}

/// Server → client: `{"invocationId", "source", "target": "SDK", "data": {...}}`.
///
/// `requestId` is accepted for `invocationId`, and `data` may arrive as a JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFrame {
    /// The invocation this frame belongs to.
    #[serde(alias = "requestId")]
    pub invocation_id: String,
    /// The tool's server.
    #[serde(default)]
    pub source: String,
    /// `SDK`.
    #[serde(default)]
    pub target: String,
    /// The payload.
    #[serde(deserialize_with = "object_or_json_string")]
    pub data: StreamData,
}

fn object_or_json_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<StreamData, D::Error> {
    let data = match Value::deserialize(deserializer)? {
        Value::String(text) => serde_json::from_str(&text).map_err(D::Error::custom)?,
        other => other,
    };
    // The SDK checks for a non-empty string `error` before looking at the phase.
    if let Some(error) = data_error(&data) {
        return Ok(StreamData::Error(StreamFailure {
            error: Some(error.to_owned()),
        }));
    }
    serde_json::from_value(data).map_err(D::Error::custom)
}

impl ServerFrame {
    /// A frame from `source` to the SDK.
    pub fn new(
        invocation_id: impl Into<String>,
        source: impl Into<String>,
        data: StreamData,
    ) -> Self {
        Self {
            invocation_id: invocation_id.into(),
            source: source.into(),
            target: SDK.to_owned(),
            data,
        }
    }

    /// Decodes a server text frame. An unknown `phase` is a [`WireError`] (the SDK's
    /// `WsProtocolError`).
    pub fn parse(text: &str) -> Result<Self, WireError> {
        serde_json::from_str(text).map_err(|err| WireError::json("server stream frame", err))
    }

    /// Encodes the frame (compact JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The `data` of a server frame, by `phase`.
///
/// A non-empty string `error` member (any phase) fails the stream; [`StreamData::remote_error`]
/// reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum StreamData {
    /// A stream event; the stream continues.
    Event(StreamEvent),
    /// The invocation finished.
    End(StreamEnd),
    /// The invocation failed remotely.
    Error(StreamFailure),
}

impl StreamData {
    /// The remote failure text, if this payload fails the stream.
    pub fn remote_error(&self) -> Option<&str> {
        match self {
            Self::Error(failure) => Some(failure.error.as_deref().unwrap_or("remote error")),
            _ => None,
        }
    }
}

/// An `event` payload: a sequence number and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// Sequence number (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The event.
    #[serde(flatten)]
    pub kind: StreamEventKind,
}

/// `eventType` and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", rename_all = "lowercase")]
pub enum StreamEventKind {
    /// A chunk of standard output, forwarded as soon as it is flushed.
    Stdout {
        /// The text.
        chunk: String,
    },
    /// A chunk of standard error.
    Stderr {
        /// The text.
        chunk: String,
    },
    /// A rich result.
    Result {
        /// `{"mime": {...}, "isMainResult"}`.
        result: StreamResult,
    },
    /// A code or runtime error; the run fails.
    Error {
        /// Details.
        error: StreamErrorInfo,
    },
}

/// A streamed result: `{"mime": {<MIME type>: value}, "isMainResult"}`.
///
/// Decoding a non-object `result` gives a plain-text result, as the SDK does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "Value")]
pub struct StreamResult {
    /// MIME type to value.
    pub mime: Map<String, Value>,
    /// True for the last expression's value.
    #[serde(default)]
    pub is_main_result: bool,
}

impl From<Value> for StreamResult {
    fn from(value: Value) -> Self {
        match value {
            Value::Object(object) => Self {
                mime: object
                    .get("mime")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
                is_main_result: ["isMainResult", "is_main_result"]
                    .iter()
                    .any(|key| object.get(*key).and_then(Value::as_bool) == Some(true)),
            },
            Value::String(text) => Self::plain_text(text),
            other => Self::plain_text(other.to_string()),
        }
    }
}

impl StreamResult {
    fn plain_text(text: String) -> Self {
        let mut mime = Map::new();
        mime.insert("text/plain".to_owned(), Value::String(text));
        Self {
            mime,
            is_main_result: false,
        }
    }

    /// Server side: the stream form of a result (MIME-type keys only).
    pub fn from_result(result: &ExecutionResult) -> Self {
        let mut mime = match serde_json::to_value(result) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        mime.remove("isMainResult");
        Self {
            mime,
            is_main_result: result.is_main_result,
        }
    }

    /// Client side: the result, reading MIME-type keys only (the SDK ignores short aliases
    /// such as `text` on this path).
    pub fn to_result(&self) -> ExecutionResult {
        let mut mime: Map<String, Value> = self
            .mime
            .iter()
            .filter(|(key, _)| key.contains('/'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        mime.insert("isMainResult".to_owned(), Value::Bool(self.is_main_result));
        ExecutionResult::from_item(&Value::Object(mime))
    }
}

/// The payload of an `error` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamErrorInfo {
    /// Becomes the error's name.
    #[serde(default)]
    pub code: String,
    /// Becomes the error's value.
    #[serde(default)]
    pub message: String,
    /// Becomes `traceId=<it>` in the traceback.
    #[serde(default)]
    pub trace_id: String,
}

/// Final status of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndStatus {
    /// Ran to completion (the code may still have raised: see `executionError`).
    Finished,
    /// Failed.
    Failed,
}

/// An `end` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEnd {
    /// Sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Final status.
    pub status: EndStatus,
    /// Execution counter (kept only when a JSON integer).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "integer_or_none"
    )]
    pub execution_count: Option<i64>,
    /// Seconds (0 when absent or not a number).
    #[serde(default, deserialize_with = "number_or_zero")]
    pub execution_time: f64,
    /// `"<Ename>: <evalue>"` on a code error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_error: Option<String>,
}

/// An `error`-phase payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamFailure {
    /// The failure text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks a raw `data` object for the SDK's first rule: a non-empty string `error` member
/// fails the stream whatever the phase.
pub fn data_error(data: &Value) -> Option<&str> {
    data.get("error")
        .and_then(Value::as_str)
        .filter(|error| !error.is_empty())
}

/// Largest text frame the Python client accepts (its `websockets` default); larger frames close
/// the connection, so servers split output into smaller chunks.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

impl StreamData {
    /// A `stdout` event.
    pub fn stdout(seq: u64, chunk: impl Into<String>) -> Self {
        Self::Event(StreamEvent {
            seq: Some(seq),
            kind: StreamEventKind::Stdout {
                chunk: chunk.into(),
            },
        })
    }

    /// A `stderr` event.
    pub fn stderr(seq: u64, chunk: impl Into<String>) -> Self {
        Self::Event(StreamEvent {
            seq: Some(seq),
            kind: StreamEventKind::Stderr {
                chunk: chunk.into(),
            },
        })
    }

    /// A `result` event.
    pub fn result(seq: u64, result: &ExecutionResult) -> Self {
        Self::Event(StreamEvent {
            seq: Some(seq),
            kind: StreamEventKind::Result {
                result: StreamResult::from_result(result),
            },
        })
    }

    /// An `error` event: `code` becomes the error's name, `message` its value.
    pub fn error_event(seq: u64, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Event(StreamEvent {
            seq: Some(seq),
            kind: StreamEventKind::Error {
                error: StreamErrorInfo {
                    code: code.into(),
                    message: message.into(),
                    trace_id: String::new(),
                },
            },
        })
    }

    /// The `end` payload; a non-empty `execution_error` (`"<Ename>: <evalue>"`) fails the run.
    pub fn end(
        seq: u64,
        execution_count: Option<i64>,
        execution_time: f64,
        execution_error: Option<String>,
    ) -> Self {
        let failed = execution_error
            .as_deref()
            .is_some_and(|error| !error.is_empty());
        Self::End(StreamEnd {
            seq: Some(seq),
            status: if failed {
                EndStatus::Failed
            } else {
                EndStatus::Finished
            },
            execution_count,
            execution_time,
            execution_error: execution_error.filter(|error| !error.is_empty()),
        })
    }
}

/// What the client should do after feeding one payload to a [`RunCodeStream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamStep {
    /// More frames will follow.
    Continue,
    /// The invocation ended; call [`RunCodeStream::finish`].
    Finished,
    /// The stream failed remotely (phase `error` or an `error` string); the run failed.
    Failed(String),
}

/// Client side: folds the payloads of one `run_code` stream into a [`CodeExecution`] the way
/// the SDK does (§7.3). No IO: feed it each [`StreamData`] of the invocation.
#[derive(Debug, Clone, Default)]
pub struct RunCodeStream {
    logs: ExecutionLogs,
    results: Vec<ExecutionResult>,
    error: Option<ExecutionError>,
    error_event_message: Option<String>,
    end: Option<StreamEnd>,
    failure: Option<String>,
}

impl RunCodeStream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one payload. Output chunks and results accumulate; an `error` event marks the
    /// run failed and the stream goes on until `end`.
    pub fn push(&mut self, data: &StreamData) -> StreamStep {
        match data {
            StreamData::Event(event) => {
                match &event.kind {
                    StreamEventKind::Stdout { chunk } => self.logs.stdout.push(chunk.clone()),
                    StreamEventKind::Stderr { chunk } => self.logs.stderr.push(chunk.clone()),
                    StreamEventKind::Result { result } => self.results.push(result.to_result()),
                    StreamEventKind::Error { error } => {
                        let name = match error.code.as_str() {
                            "" => "ExecutionError",
                            code => code,
                        };
                        let traceback = match error.trace_id.as_str() {
                            "" => String::new(),
                            trace_id => format!("traceId={trace_id}"),
                        };
                        self.error = Some(ExecutionError {
                            name: name.to_owned(),
                            value: error.message.clone(),
                            traceback,
                        });
                        self.error_event_message = Some(error.message.clone());
                    }
                }
                StreamStep::Continue
            }
            StreamData::End(end) => {
                self.end = Some(end.clone());
                StreamStep::Finished
            }
            StreamData::Error(failure) => {
                let message = failure
                    .error
                    .clone()
                    .unwrap_or_else(|| "remote error".to_owned());
                self.failure = Some(message.clone());
                StreamStep::Failed(message)
            }
        }
    }

    /// The stdout and stderr chunks received so far.
    pub fn logs(&self) -> &ExecutionLogs {
        &self.logs
    }

    /// The outcome. Success means an `end` with status other than `failed`, no
    /// `executionError` and no `error` event; the message is `executionError`, else the error
    /// event's message (a bare `failed` status leaves it empty, like the SDK). An
    /// `executionError` without an error event becomes an `ExecutionError` error.
    pub fn finish(self) -> CodeExecution {
        let execution_error = self
            .end
            .as_ref()
            .and_then(|end| end.execution_error.clone())
            .filter(|e| !e.is_empty());
        let error_message = match (&self.failure, &execution_error, &self.error_event_message) {
            (Some(failure), _, _) => failure.clone(),
            (None, Some(error), _) => error.clone(),
            (None, None, Some(message)) => message.clone(),
            (None, None, None) if self.end.is_none() => {
                "stream ended without an end frame".to_owned()
            }
            (None, None, None) => String::new(),
        };
        let success = self.failure.is_none()
            && self.error.is_none()
            && execution_error.is_none()
            && self
                .end
                .as_ref()
                .is_some_and(|end| end.status != EndStatus::Failed);
        let error = self.error.or_else(|| {
            execution_error.map(|value| ExecutionError {
                name: "ExecutionError".to_owned(),
                value,
                traceback: String::new(),
            })
        });
        CodeExecution {
            success,
            execution_count: self.end.as_ref().and_then(|end| end.execution_count),
            execution_time: self.end.as_ref().map_or(0.0, |end| end.execution_time),
            logs: self.logs,
            results: self.results,
            error,
            error_message,
        }
    }
}
