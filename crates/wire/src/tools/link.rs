//! The LinkUrl route (§3.3): `POST {linkUrl}/callTool` with `X-Access-Token`, no API key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ToolCallData;
use crate::error::WireError;

/// The path appended to a session's `linkUrl`.
pub const CALL_TOOL_PATH: &str = "/callTool";

/// The header carrying the session token on this route and on the WebSocket handshake.
pub const ACCESS_TOKEN_HEADER: &str = crate::headers::ACCESS_TOKEN;

/// The URL of the link route: `linkUrl` without trailing `/`, then `/callTool`.
pub fn call_tool_url(link_url: &str) -> String {
    format!("{}{CALL_TOOL_PATH}", link_url.trim_end_matches('/'))
}

/// The body of a link-route call; `args` is a JSON **object** here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkCallRequest {
    /// Tool arguments.
    #[serde(default)]
    pub args: Map<String, Value>,
    /// The tool's server from `toolList`.
    pub server: String,
    /// Client-generated `link-<epoch ms>-<9 digits>`; becomes the result's request id.
    pub request_id: String,
    /// The tool name.
    pub tool: String,
    /// The session token.
    pub token: String,
}

/// The client-generated request id of a link call: `link-<epoch ms>-<9-digit random>`.
pub fn link_request_id(epoch_ms: u128, random: u32) -> String {
    format!("link-{epoch_ms}-{:09}", random % 1_000_000_000)
}

/// Renders a link-route response body (server side): `{"data": {"result": {...}}}`.
pub fn render_link_response(result: &ToolCallData) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "data": { "result": result } })).unwrap_or_default()
}

/// The outcome of a link call as the SDK reads it: only `content[0]` is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCallOutput {
    /// The result's `isError`.
    pub is_error: bool,
    /// `content[0]` as a bare string, or its first non-empty `text`/`blob`/`data`.
    pub text: Option<String>,
}

/// Parses a link-route response body; `data` may be an object or a JSON string of one.
pub fn parse_link_response(body: &[u8]) -> Result<LinkCallOutput, WireError> {
    let response: Value =
        serde_json::from_slice(body).map_err(|err| WireError::json("link response", err))?;
    let data = match response.get("data") {
        None | Some(Value::Null) => {
            return Err(WireError::NotA {
                what: "link response",
                expected: "an object with a `data` field",
            });
        }
        Some(Value::String(text)) => serde_json::from_str::<Value>(text)
            .map_err(|err| WireError::json("link response data", err))?,
        Some(other) => other.clone(),
    };
    let Some(data) = data.as_object() else {
        return Err(WireError::NotA {
            what: "link response data",
            expected: "a JSON object",
        });
    };
    let Some(result) = data.get("result") else {
        return Ok(LinkCallOutput {
            is_error: false,
            text: None,
        });
    };
    let Some(result) = result.as_object() else {
        return Err(WireError::NotA {
            what: "link response result",
            expected: "a JSON object",
        });
    };
    let is_error = result
        .get("isError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let text = result
        .get("content")
        .and_then(|content| content.get(0))
        .and_then(|first| match first {
            Value::String(text) => Some(text.clone()),
            item => ["text", "blob", "data"]
                .iter()
                .find_map(|key| {
                    item.get(key)
                        .and_then(Value::as_str)
                        .filter(|text| !text.is_empty())
                })
                .map(str::to_owned),
        });
    Ok(LinkCallOutput { is_error, text })
}
