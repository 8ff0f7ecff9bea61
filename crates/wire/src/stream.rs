//! WebSocket streaming frames (§7): text frames carrying JSON objects.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::WireError;

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
    match Value::deserialize(deserializer)? {
        Value::String(text) => serde_json::from_str(&text).map_err(D::Error::custom),
        other => serde_json::from_value(other).map_err(D::Error::custom),
    }
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

/// A streamed result: MIME-type keys only (no short aliases).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamResult {
    /// MIME type to value.
    pub mime: Map<String, Value>,
    /// True for the last expression's value.
    #[serde(default)]
    pub is_main_result: bool,
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
    /// Execution counter (kept only when an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_count: Option<i64>,
    /// Seconds.
    #[serde(default)]
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
