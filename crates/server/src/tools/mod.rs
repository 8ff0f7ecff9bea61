//! The tools behind `CallMcpTool`, the link route and the WebSocket: one dispatcher, the
//! catalogue (`toolList`, listTools) and one module per tool family.

pub mod code;
pub mod fs;
pub mod metrics;
pub mod shell;

use std::sync::Arc;

use agbcloud_wire::WireError;
use agbcloud_wire::session::ToolRoute;
use agbcloud_wire::tools::{McpTool, ToolArgs, ToolCallData};
use serde_json::{Map, Value, json};

use crate::config::ServerConfig;
use crate::envelope::ApiError;
use crate::registry::Session;

/// The MCP server of `run_code` (also the WebSocket stream target).
pub const CODE_SERVER: &str = "wuying_codespace";
/// The MCP server of `shell`.
pub const SHELL_SERVER: &str = "wuying_shell";
/// The MCP server of the file-system tools.
pub const FS_SERVER: &str = "wuying_filesystem";
/// The MCP server of `get_metrics`.
pub const SYSTEM_SERVER: &str = "wuying_system";

fn tool(name: &str, server: &str, description: &str, schema: Value) -> McpTool {
    McpTool {
        name: name.to_owned(),
        description: description.to_owned(),
        input_schema: schema,
        server: server.to_owned(),
        tool: name.to_owned(),
    }
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// Every tool this server offers, with its server and argument schema.
pub fn catalog() -> Vec<McpTool> {
    let path = json!({"path": {"type": "string", "description": "Absolute path"}});
    vec![
        tool(
            "run_code",
            CODE_SERVER,
            "Run code in a stateful kernel (python, javascript, java, r)",
            object(
                json!({
                    "code": {"type": "string"},
                    "language": {"type": "string", "enum": ["python", "javascript", "java", "r"]},
                    "timeout_s": {"type": "integer"}
                }),
                &["code"],
            ),
        ),
        tool(
            "shell",
            SHELL_SERVER,
            "Run a shell command and wait for it to exit",
            object(
                json!({
                    "command": {"type": "string"},
                    "timeout_ms": {"type": "integer"},
                    "cwd": {"type": "string"},
                    "envs": {"type": "object", "additionalProperties": {"type": "string"}}
                }),
                &["command"],
            ),
        ),
        tool(
            "create_directory",
            FS_SERVER,
            "Create a directory and its parents",
            object(path.clone(), &["path"]),
        ),
        tool(
            "edit_file",
            FS_SERVER,
            "Replace text in a file",
            object(
                json!({
                    "path": {"type": "string"},
                    "edits": {"type": "array", "items": {"type": "object", "properties": {
                        "oldText": {"type": "string"}, "newText": {"type": "string"}}}},
                    "dryRun": {"type": "boolean"}
                }),
                &["path", "edits"],
            ),
        ),
        tool(
            "get_file_info",
            FS_SERVER,
            "Describe a file or directory",
            object(path.clone(), &["path"]),
        ),
        tool(
            "list_directory",
            FS_SERVER,
            "List a directory",
            object(path.clone(), &["path"]),
        ),
        tool(
            "move_file",
            FS_SERVER,
            "Move or rename a file or directory",
            object(
                json!({"source": {"type": "string"}, "destination": {"type": "string"}}),
                &["source", "destination"],
            ),
        ),
        tool(
            "delete_file",
            FS_SERVER,
            "Delete a file or directory",
            object(path.clone(), &["path"]),
        ),
        tool(
            "read_file",
            FS_SERVER,
            "Read a byte range of a file as text or base64",
            object(
                json!({
                    "path": {"type": "string"},
                    "offset": {"type": "integer"},
                    "length": {"type": "integer"},
                    "format": {"type": "string", "enum": ["text", "binary"]}
                }),
                &["path"],
            ),
        ),
        tool(
            "write_file",
            FS_SERVER,
            "Write text to a file",
            object(
                json!({
                    "path": {"type": "string"},
                    "content": {"type": "string"},
                    "mode": {"type": "string", "enum": ["overwrite", "append", "create_new"]}
                }),
                &["path", "content"],
            ),
        ),
        tool(
            "read_multiple_files",
            FS_SERVER,
            "Read several text files",
            object(
                json!({"paths": {"type": "array", "items": {"type": "string"}}}),
                &["paths"],
            ),
        ),
        tool(
            "search_files",
            FS_SERVER,
            "Find entries whose names match a glob, recursively",
            object(
                json!({
                    "path": {"type": "string"},
                    "pattern": {"type": "string"},
                    "excludePatterns": {"type": "array", "items": {"type": "string"}}
                }),
                &["path", "pattern"],
            ),
        ),
        tool(
            "get_file_change",
            FS_SERVER,
            "Changes under a directory since the previous call",
            object(path, &["path"]),
        ),
        tool(
            "get_metrics",
            SYSTEM_SERVER,
            "CPU, memory, disk and network use of the session",
            object(json!({}), &[]),
        ),
    ]
}

/// The `toolList` of session objects: name and server of every tool.
pub fn routes() -> Vec<ToolRoute> {
    catalog()
        .into_iter()
        .map(|tool| ToolRoute {
            name: tool.name,
            server: tool.server,
        })
        .collect()
}

/// Decodes tool arguments; a failure is a 400 naming the tool and the problem.
pub(crate) fn args<A: ToolArgs>(args: &Map<String, Value>) -> Result<A, ApiError> {
    serde_json::from_value(Value::Object(args.clone())).map_err(|err| {
        let err = WireError::json("tool arguments", err);
        ApiError::invalid(format!(
            "invalid arguments for tool `{}`: {}",
            A::NAME,
            crate::envelope::describe(&err)
        ))
    })
}

/// Runs tool `name` on `session`. Tool-level failures are `isError` results; undecodable
/// arguments are errors (400).
pub async fn call(
    config: &ServerConfig,
    session: &Arc<Session>,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<ToolCallData, ApiError> {
    let _activity = session.activity();
    match name {
        "run_code" => code::run(session, args(arguments)?).await,
        "shell" => shell::run(session, args(arguments)?).await,
        "get_metrics" => Ok(metrics::run(session, config.limits.cpu, config.limits.memory).await),
        other => match fs::call(session, other, arguments).await {
            Some(result) => result,
            None => Ok(ToolCallData::error(format!(
                "Unknown tool: {other}. This session offers: {}",
                catalog()
                    .iter()
                    .map(|tool| tool.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}
