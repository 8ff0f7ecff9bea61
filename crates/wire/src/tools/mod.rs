//! Tool calls (`POST /mcp`, agb-protocol.md §3) and the per-tool argument and result formats (§4).
//!
//! Every result format is defined once here, in both directions: the client parses the text a
//! tool returns, and the server renders it with the matching `render_*` function.

pub mod code;
pub mod fs;
pub mod link;
pub mod metrics;
pub mod shell;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::Envelope;
use crate::error::WireError;
use crate::serde_util::{json_string, lenient};

/// Typed arguments of one tool.
pub trait ToolArgs: Serialize + DeserializeOwned {
    /// The tool name, e.g. `"shell"`.
    const NAME: &'static str;

    /// The arguments as a JSON object.
    fn to_map(&self) -> Result<Map<String, Value>, WireError> {
        match serde_json::to_value(self).map_err(|err| WireError::json("tool arguments", err))? {
            Value::Object(map) => Ok(map),
            _ => Err(WireError::NotA {
                what: "tool arguments",
                expected: "a JSON object",
            }),
        }
    }
}

/// `POST /mcp?autoGenSession=false[&imageId]` with body `{"args", "sessionId", "name", "server"?}`.
///
/// `args` travels as a JSON-encoded **string** (an object is accepted when decoding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolParams {
    /// Always `false` on the wire.
    #[serde(default, deserialize_with = "lenient::deserialize")]
    pub auto_gen_session: bool,
    /// Never set by the official SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// The tool arguments (a JSON string on the wire; `"{}"` when empty).
    #[serde(default, with = "json_string")]
    pub args: Map<String, Value>,
    /// The session id.
    pub session_id: String,
    /// The tool name.
    pub name: String,
    /// The MCP server (never set on this route by the SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl CallToolParams {
    /// A call of tool `A::NAME` with typed arguments.
    pub fn new<A: ToolArgs>(session_id: impl Into<String>, args: &A) -> Result<Self, WireError> {
        Ok(Self::raw(session_id, A::NAME, args.to_map()?))
    }

    /// A call of any tool with untyped arguments.
    pub fn raw(
        session_id: impl Into<String>,
        name: impl Into<String>,
        args: Map<String, Value>,
    ) -> Self {
        Self {
            auto_gen_session: false,
            image_id: None,
            args,
            session_id: session_id.into(),
            name: name.into(),
            server: None,
        }
    }

    /// Server side: decodes the arguments as tool `A`'s.
    pub fn decode_args<A: ToolArgs>(&self) -> Result<A, WireError> {
        serde_json::from_value(Value::Object(self.args.clone()))
            .map_err(|err| WireError::json("tool arguments", err))
    }
}

/// One item of a tool result's `content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentItem {
    /// `text` or `image`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The text of a `text` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The base64 data of an `image` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// A blob (TypeScript fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The MIME type of an `image` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl ContentItem {
    /// A `text` item.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: "text".to_owned(),
            text: Some(text.into()),
            data: None,
            blob: None,
            mime_type: None,
        }
    }

    /// An `image` item with base64 `data`.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self {
            kind: "image".to_owned(),
            text: None,
            data: Some(data.into()),
            blob: None,
            mime_type: Some(mime_type.into()),
        }
    }
}

/// The `data` of a tool call: `{"content": [...], "isError": bool}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCallData {
    /// The result items.
    #[serde(default)]
    pub content: Vec<ContentItem>,
    /// Tool-level failure (keep the envelope `message` empty then, §3.2).
    #[serde(default)]
    pub is_error: bool,
}

impl ToolCallData {
    /// A successful result with one text item.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentItem::text(text)],
            is_error: false,
        }
    }

    /// A tool-level failure with one text item.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentItem::text(text)],
            is_error: true,
        }
    }

    /// The result text as the SDK computes it (§3.2): all `text` items joined with `\n` (an
    /// item without `text` counts as empty); if there are none, the `data` of the first
    /// `image` item; `None` for empty content.
    pub fn result_text(&self) -> Option<String> {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter(|item| item.kind == "text")
            .map(|item| item.text.as_deref().unwrap_or_default())
            .collect();
        if !texts.is_empty() {
            return Some(texts.join("\n"));
        }
        self.content
            .iter()
            .find(|item| item.kind == "image")
            .and_then(|item| item.data.clone())
    }
}

/// The outcome of a tool call as the SDK reports it (`McpToolResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// HTTP 200, envelope success and not `isError`.
    pub success: bool,
    /// The result text (§3.2), also set on tool-level errors.
    pub text: Option<String>,
    /// Empty on success; else the envelope message, the tool text, or "Tool execution failed".
    pub error_message: String,
}

impl Envelope<ToolCallData> {
    /// Applies §3.2 to a tool-call response received with HTTP `status`.
    pub fn tool_output(&self, status: u16) -> ToolOutput {
        let tool_success = !self.data.as_ref().is_some_and(|data| data.is_error);
        let text = self.data.as_ref().and_then(ToolCallData::result_text);
        let success = status == 200 && self.success && tool_success;
        let error_message = if success {
            String::new()
        } else if !self.message.is_empty() {
            self.message.clone()
        } else if let Some(text) = text
            .as_ref()
            .filter(|text| !tool_success && !text.is_empty())
        {
            text.clone()
        } else {
            "Tool execution failed".to_owned()
        };
        ToolOutput {
            success,
            text,
            error_message,
        }
    }
}

/// A tool description, as in `toolList` and listTools (§3.5).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpTool {
    /// Tool name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub input_schema: Value,
    /// The MCP server providing it.
    #[serde(default)]
    pub server: String,
    /// The tool name on that server.
    #[serde(default)]
    pub tool: String,
}

/// `get_metrics` and other tools that take no arguments serialise `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NoArgs {}
