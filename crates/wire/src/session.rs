//! Session endpoints: create, get, status, release, list, keep-alive, labels, resource, link.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::context::PersistenceData;
use crate::serde_util::{
    json_string, json_string_best_effort, json_string_opt, json_string_or_default, lenient,
    lenient_opt,
};
use crate::tools::McpTool;

/// Session labels: a flat string-to-string map (sent as a JSON string on the wire).
pub type Labels = BTreeMap<String, String>;

/// The `sdkStats` query value of createSession (informational).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdkStats {
    /// Always `"sdk"`.
    pub source: String,
    /// `"python"`, `"typescript"`, `"rust"`...
    pub sdk_language: String,
    /// The SDK version.
    pub sdk_version: String,
    /// Whether this is a release build.
    pub is_release: bool,
}

impl SdkStats {
    /// The stats this crate's SDK reports.
    pub fn rust() -> Self {
        Self {
            source: "sdk".to_owned(),
            sdk_language: "rust".to_owned(),
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
            is_release: true,
        }
    }
}

/// `POST /mcp/createSession`: query `imageId`, `sdkStats`; body fields each omitted when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionParams {
    /// The image, e.g. `agb-code-space-1` (required).
    pub image_id: String,
    /// SDK statistics, a compact JSON string in the query.
    #[serde(
        default,
        with = "json_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sdk_stats: Option<SdkStats>,
    /// A caller-chosen session id (never set by the official SDKs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Contexts to mount; only syncs with a policy are sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persistence_data_list: Vec<PersistenceData>,
    /// A context id (never set by the official SDKs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// Labels, a JSON string; send `None` rather than an empty map.
    #[serde(
        default,
        with = "json_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub labels: Option<Labels>,
    /// The MCP policy id (SDK `policy_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_policy_id: Option<String>,
    /// Idle release timeout in seconds (SDK `idle_release_timeout`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub timeout: Option<u64>,
}

impl CreateSessionParams {
    /// Params for `image_id` with nothing else set.
    pub fn new(image_id: impl Into<String>) -> Self {
        Self {
            image_id: image_id.into(),
            sdk_stats: None,
            session_id: None,
            persistence_data_list: Vec::new(),
            context_id: None,
            labels: None,
            mcp_policy_id: None,
            timeout: None,
        }
    }
}

/// One entry of a session's tool list: which MCP server provides a tool.
///
/// Decoding accepts `name`/`Name` and `server`/`serverName`/`Server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRoute {
    /// The tool name, e.g. `run_code`.
    #[serde(default, alias = "Name")]
    pub name: String,
    /// The MCP server, e.g. `wuying_codespace`.
    #[serde(default, alias = "serverName", alias = "Server")]
    pub server: String,
}

/// The session object of createSession and getSession (§2.1, §2.2).
///
/// `toolList` travels as a JSON string (an array is accepted when decoding). getSession's
/// capitalised `LinkUrl`, `WsUrl`, `Token`, `ToolList` are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionData {
    /// The session id; absent on a failed create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// `false` means the create failed (with `errMsg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Failure text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub err_msg: Option<String>,
    /// Browser-viewable URL; contains `resourceId=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_url: Option<String>,
    /// App instance id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_instance_id: Option<String>,
    /// Resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Task id (unused by the SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Network interface IP (unused by the SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interface_ip: Option<String>,
    /// Direct per-session tool route base URL (§3.3).
    #[serde(default, alias = "LinkUrl", skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    /// WebSocket streaming URL (§7).
    #[serde(default, alias = "WsUrl", skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
    /// Per-session credential for the link route and WebSocket.
    #[serde(default, alias = "Token", skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Which server provides each tool (a JSON string on the wire; undecodable is `None`).
    #[serde(
        default,
        alias = "ToolList",
        with = "json_string_best_effort",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_list: Option<Vec<ToolRoute>>,
    /// Session status (getSession only), e.g. `RUNNING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl SessionData {
    /// The create outcome as the SDK judges it (§8.1): the session id, or the failure text
    /// (`errMsg`, else `envelope_message`, else "Unknown error").
    pub fn created_session_id<'a>(&'a self, envelope_message: &'a str) -> Result<&'a str, &'a str> {
        let failure = || {
            self.err_msg
                .as_deref()
                .filter(|msg| !msg.is_empty())
                .or(Some(envelope_message).filter(|msg| !msg.is_empty()))
                .unwrap_or("Unknown error")
        };
        if self.success == Some(false) {
            return Err(failure());
        }
        self.session_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(failure)
    }

    /// The server of `tool` in the tool list, if listed with a non-empty server.
    pub fn server_of(&self, tool: &str) -> Option<&str> {
        self.tool_list
            .as_ref()?
            .iter()
            .find(|route| route.name == tool && !route.server.is_empty())
            .map(|route| route.server.as_str())
    }
}

/// A body holding only `sessionId`: getSession, getSessionInfo, releaseSession(Async),
/// getMcpResource.
macro_rules! session_id_params {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The session id.
            pub session_id: String,
        }

        impl $name {
            /// Params for `session_id`.
            pub fn new(session_id: impl Into<String>) -> Self {
                Self { session_id: session_id.into() }
            }
        }
    )*};
}

session_id_params! {
    /// `POST /mcp/getSession`, body `{"sessionId"}`.
    GetSessionParams;
    /// `POST /mcp/getSessionInfo`, body `{"sessionId"}` (does not count as activity).
    GetSessionInfoParams;
    /// `POST /mcp/releaseSessionAsync`, body `{"sessionId"}`.
    ReleaseSessionAsyncParams;
    /// `POST /mcp/releaseSession`, body `{"sessionId"}`.
    ReleaseSessionParams;
    /// `POST /mcp/refreshSessionIdleTime?sessionId=`, body `{}`.
    RefreshSessionIdleTimeParams;
    /// `POST /mcp/getMcpResource`, body `{"sessionId"}`.
    GetMcpResourceParams;
}

/// Status values of getSessionInfo / getSession.
pub mod status {
    /// The session is running.
    pub const RUNNING: &str = "RUNNING";
    /// The session is being released.
    pub const DELETING: &str = "DELETING";
    /// The session has been released.
    pub const DELETED: &str = "DELETED";
    /// The session has finished (released).
    pub const FINISH: &str = "FINISH";
}

/// getSessionInfo data: `{"status": "RUNNING"}` (`Status` accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatusData {
    /// The status, see [`status`]; empty when absent.
    #[serde(default, alias = "Status")]
    pub status: String,
}

impl SessionStatusData {
    /// True for `FINISH`, which ends the SDK's delete polling like a not-found error.
    pub fn is_finished(&self) -> bool {
        self.status == status::FINISH
    }
}

/// `GET /sdk/ListSession`: `maxResults`, `nextToken`?, `labels` (always, `{}` for all), `isAll`?.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSessionParams {
    /// Page size (SDK default 10).
    #[serde(deserialize_with = "lenient::deserialize")]
    pub max_results: u32,
    /// Token of the page to fetch (pages after the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Label filter (AND of all pairs), a JSON string.
    #[serde(default, with = "json_string_or_default")]
    pub labels: Labels,
    /// List sessions of every owner (never sent by the SDK).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub is_all: Option<bool>,
}

/// One ListSession entry. Pagination is at the envelope's top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// The session id.
    pub session_id: String,
    /// Its status, e.g. `RUNNING`.
    #[serde(default)]
    pub session_status: String,
}

/// `POST /sdk/SetLabel?sessionId=&Labels=` (capital `L`), body `{}`; replaces the label set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLabelParams {
    /// The session id.
    #[serde(rename = "sessionId")]
    pub session_id: String,
    /// The new label set, a JSON string under the query key `Labels`.
    #[serde(rename = "Labels", alias = "labels", with = "json_string")]
    pub labels: Labels,
}

/// `GET /sdk/GetLabel?sessionId=[&maxResults][&nextToken]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLabelParams {
    /// The session id.
    pub session_id: String,
    /// Page size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub max_results: Option<u32>,
    /// Page token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// GetLabel data: `{"labels": "<json string>", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelsData {
    /// The labels (a JSON string on the wire).
    #[serde(default, with = "json_string_or_default")]
    pub labels: Labels,
    /// Number of labels.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub count: Option<u64>,
    /// Page token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub max_results: Option<u32>,
}

/// Remote-desktop details of getMcpResource (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesktopInfo {
    /// App id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Auth code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
    /// Connection properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_properties: Option<String>,
    /// Resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Resource type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// getMcpResource data: `{"sessionId", "resourceUrl", "desktopInfo"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpResourceData {
    /// The session id.
    #[serde(default)]
    pub session_id: String,
    /// Browser-viewable URL.
    #[serde(default)]
    pub resource_url: String,
    /// Desktop details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop_info: Option<DesktopInfo>,
}

/// `GET /internet/getLink?sessionId=[&protocolType][&port]` (also `/mcp/getLink`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLinkParams {
    /// The session id.
    pub session_id: String,
    /// `https`, `wss`...; omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_type: Option<String>,
    /// A sandbox port, e.g. 30100; omitted when `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt::deserialize"
    )]
    pub port: Option<u16>,
}

/// getLink / getCdpLink data: `{"url"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlData {
    /// The URL (must be non-empty for success).
    #[serde(default)]
    pub url: String,
}

/// `POST /mcp/listTools?imageId=`, body `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsParams {
    /// The image whose tools to list.
    pub image_id: String,
}

/// listTools data: a JSON **string** holding an array of tools (an array is accepted).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ToolsData(#[serde(with = "json_string")] pub Vec<McpTool>);
