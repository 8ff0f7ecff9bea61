//! File-system tools (§4.3): arguments, result texts, parsers and renderers.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::ToolArgs;
use crate::error::WireError;
use crate::path::SandboxPath;

/// Chunk size of `read_file` (bytes) and `write_file` (characters) in both official SDKs.
pub const CHUNK_SIZE: u64 = 51_200;

macro_rules! path_args {
    ($($(#[$doc:meta])* $name:ident => $tool:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            /// The target path.
            pub path: SandboxPath,
        }

        impl $name {
            /// Arguments for `path`.
            pub fn new(path: SandboxPath) -> Self {
                Self { path }
            }
        }

        impl ToolArgs for $name {
            const NAME: &'static str = $tool;
        }
    )*};
}

path_args! {
    /// `create_directory {"path"}`: like `mkdir -p`, idempotent; any text back.
    CreateDirectoryArgs => "create_directory";
    /// `get_file_info {"path"}`: `key: value` lines back ([`FileInfo`]); `isError` if missing.
    GetFileInfoArgs => "get_file_info";
    /// `list_directory {"path"}`: `[DIR] name` / `[FILE] name` lines back ([`DirEntry`]).
    ListDirectoryArgs => "list_directory";
    /// `delete_file {"path"}`: any text back.
    DeleteFileArgs => "delete_file";
    /// `get_file_change {"path"}`: a JSON array of [`FileChangeEvent`]s since the last call.
    GetFileChangeArgs => "get_file_change";
}

/// One replacement of `edit_file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextEdit {
    /// Text to find (an error if absent).
    pub old_text: String,
    /// Replacement.
    pub new_text: String,
}

/// `edit_file {"path", "edits", "dryRun"}`: a diff text back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditFileArgs {
    /// The file.
    pub path: SandboxPath,
    /// Replacements, applied in order.
    pub edits: Vec<TextEdit>,
    /// Only report the diff.
    #[serde(default)]
    pub dry_run: bool,
}

impl ToolArgs for EditFileArgs {
    const NAME: &'static str = "edit_file";
}

/// `move_file {"source", "destination"}`: any text back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveFileArgs {
    /// Existing path.
    pub source: SandboxPath,
    /// New path.
    pub destination: SandboxPath,
}

impl ToolArgs for MoveFileArgs {
    const NAME: &'static str = "move_file";
}

/// `format` of `read_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadFormat {
    /// The bytes as UTF-8 text (the default, when `format` is absent).
    Text,
    /// The bytes, base64-encoded (standard alphabet, no whitespace).
    Binary,
}

/// `read_file {"path", "offset", "length", "format"?}`: a byte range back, as text or base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFileArgs {
    /// The file.
    pub path: SandboxPath,
    /// Byte offset.
    #[serde(default)]
    pub offset: u64,
    /// Byte count (0 or absent: to the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// `binary` for base64; absent for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ReadFormat>,
}

impl ToolArgs for ReadFileArgs {
    const NAME: &'static str = "read_file";
}

/// The `read_file` calls the SDKs make for a file of `size` bytes: 51,200-byte ranges.
pub fn read_chunks(size: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..size)
        .step_by(CHUNK_SIZE as usize)
        .map(move |offset| (offset, CHUNK_SIZE.min(size - offset)))
}

/// `mode` of `write_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Create or truncate.
    Overwrite,
    /// Append (creating the file if missing).
    Append,
    /// Fail if the file exists (TypeScript only).
    CreateNew,
}

/// `write_file {"path", "content", "mode"}`: any text back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteFileArgs {
    /// The file.
    pub path: SandboxPath,
    /// Text content.
    pub content: String,
    /// Write mode.
    #[serde(default = "overwrite")]
    pub mode: WriteMode,
}

fn overwrite() -> WriteMode {
    WriteMode::Overwrite
}

impl ToolArgs for WriteFileArgs {
    const NAME: &'static str = "write_file";
}

/// The `write_file` calls the SDKs make: 51,200-character chunks, the first with `mode`, the
/// rest appending. Empty content is one call.
pub fn write_chunks(path: &SandboxPath, content: &str, mode: WriteMode) -> Vec<WriteFileArgs> {
    let chars: Vec<char> = content.chars().collect();
    if chars.is_empty() {
        return vec![WriteFileArgs {
            path: path.clone(),
            content: String::new(),
            mode,
        }];
    }
    chars
        .chunks(CHUNK_SIZE as usize)
        .enumerate()
        .map(|(index, chunk)| WriteFileArgs {
            path: path.clone(),
            content: chunk.iter().collect(),
            mode: if index == 0 { mode } else { WriteMode::Append },
        })
        .collect()
}

/// `read_multiple_files {"paths"}`: blocks back ([`render_batch_read`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMultipleFilesArgs {
    /// The files.
    pub paths: Vec<SandboxPath>,
}

impl ToolArgs for ReadMultipleFilesArgs {
    const NAME: &'static str = "read_multiple_files";
}

/// `search_files {"path", "pattern", "excludePatterns"?}`: full paths back, one per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilesArgs {
    /// Directory searched recursively.
    pub path: SandboxPath,
    /// Glob matched against entry names, e.g. `*.txt`.
    pub pattern: String,
    /// Globs to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_patterns: Option<Vec<String>>,
}

impl ToolArgs for SearchFilesArgs {
    const NAME: &'static str = "search_files";
}

/// Encodes a binary `read_file` chunk (standard base64, no line breaks).
pub fn encode_binary(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a binary `read_file` chunk.
pub fn decode_binary(text: &str) -> Result<Vec<u8>, WireError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|source| WireError::Base64 {
            what: "read_file chunk",
            source,
        })
}

/// How many bytes past a text range [`text_chunk`] may need to finish a cut character.
pub const UTF8_LOOKAHEAD: usize = 3;

/// Server side: the text of a `read_file` byte range, cut on character boundaries so that the
/// SDK's concatenated 51,200-byte chunks reproduce the file exactly (§4.3).
///
/// `window` holds the file's bytes from `offset` up to `offset + length + UTF8_LOOKAHEAD`
/// (or the end of the file). At a non-zero offset, leading UTF-8 continuation bytes are
/// skipped (the previous chunk already finished that character); a character cut at
/// `offset + length` is completed from the lookahead. Invalid UTF-8 becomes U+FFFD.
pub fn text_chunk(window: &[u8], offset: u64, length: usize) -> String {
    let is_continuation = |byte: &u8| byte & 0b1100_0000 == 0b1000_0000;
    let start = if offset == 0 {
        0
    } else {
        window
            .iter()
            .take(UTF8_LOOKAHEAD)
            .take_while(|byte| is_continuation(byte))
            .count()
    };
    let mut end = length.min(window.len());
    while end < window.len() && end < length + UTF8_LOOKAHEAD && is_continuation(&window[end]) {
        end += 1;
    }
    if start >= end {
        return String::new();
    }
    String::from_utf8_lossy(&window[start..end]).into_owned()
}

/// One `list_directory` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirEntry {
    /// The entry name (not a path).
    pub name: String,
    /// `[DIR]` rather than `[FILE]`.
    pub is_directory: bool,
}

/// Renders a `list_directory` text: one `[DIR] name` or `[FILE] name` per line.
pub fn render_directory_listing(entries: &[DirEntry]) -> String {
    entries
        .iter()
        .map(|entry| {
            format!(
                "{} {}",
                if entry.is_directory {
                    "[DIR]"
                } else {
                    "[FILE]"
                },
                entry.name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a `list_directory` text as the SDK does: each line trimmed, `[DIR]` or `[FILE]`
/// prefix, the rest trimmed is the name; other lines are skipped.
pub fn parse_directory_listing(text: &str) -> Vec<DirEntry> {
    text.split('\n')
        .filter_map(|line| {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("[DIR]") {
                Some(DirEntry {
                    name: name.trim().to_owned(),
                    is_directory: true,
                })
            } else {
                line.strip_prefix("[FILE]").map(|name| DirEntry {
                    name: name.trim().to_owned(),
                    is_directory: false,
                })
            }
        })
        .collect()
}

/// `get_file_info` data, from `key: value` lines.
///
/// `size` and `isDirectory` are required by the SDK's `read()`. Unknown keys are kept in
/// `extra`. Values must not contain line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileInfo {
    /// File name.
    pub name: String,
    /// Absolute path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Is a directory.
    pub is_directory: bool,
    /// Is a regular file.
    pub is_file: bool,
    /// Modification time; epoch seconds recommended.
    pub mod_time: Option<String>,
    /// `ls`-style mode, e.g. `-rw-r--r--`.
    pub mode: Option<String>,
    /// Permission string, e.g. `rw-r--r--` (not bare octal: Python would read it as a number).
    pub permissions: Option<String>,
    /// Owner name.
    pub owner: Option<String>,
    /// Group name.
    pub group: Option<String>,
    /// Other keys, verbatim.
    pub extra: BTreeMap<String, String>,
}

impl FileInfo {
    /// Renders the text (server side) in the order of §4.3.
    pub fn render(&self) -> String {
        let mut lines = vec![
            format!("name: {}", self.name),
            format!("path: {}", self.path),
            format!("size: {}", self.size),
            format!("isDirectory: {}", self.is_directory),
            format!("isFile: {}", self.is_file),
        ];
        let optional = [
            ("modTime", &self.mod_time),
            ("mode", &self.mode),
            ("permissions", &self.permissions),
            ("owner", &self.owner),
            ("group", &self.group),
        ];
        lines.extend(
            optional
                .iter()
                .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}: {v}"))),
        );
        lines.extend(
            self.extra
                .iter()
                .map(|(key, value)| format!("{key}: {value}")),
        );
        lines.join("\n")
    }

    /// Parses the text: each line split on its first `:`, both sides trimmed.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let mut info = Self::default();
        let (mut has_size, mut has_kind) = (false, false);
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim().to_owned());
            match key {
                "name" => info.name = value,
                "path" => info.path = value,
                "size" => {
                    info.size = value.parse().map_err(|_| WireError::NotA {
                        what: "file info `size`",
                        expected: "a non-negative integer",
                    })?;
                    has_size = true;
                }
                "isDirectory" => {
                    info.is_directory = value.eq_ignore_ascii_case("true");
                    has_kind = true;
                }
                "isFile" => info.is_file = value.eq_ignore_ascii_case("true"),
                "modTime" => info.mod_time = Some(value),
                "mode" => info.mode = Some(value),
                "permissions" => info.permissions = Some(value),
                "owner" => info.owner = Some(value),
                "group" => info.group = Some(value),
                other => {
                    info.extra.insert(other.to_owned(), value);
                }
            }
        }
        if !has_size {
            return Err(WireError::NotA {
                what: "file info",
                expected: "a text with a `size:` line",
            });
        }
        if !has_kind {
            return Err(WireError::NotA {
                what: "file info",
                expected: "a text with an `isDirectory:` line",
            });
        }
        Ok(info)
    }
}

/// One file of a `read_multiple_files` answer: its content or an error message.
pub type BatchReadEntry = (String, Result<String, String>);

/// Renders a `read_multiple_files` text: `"<path>:\n<content>\n"` per file (failures as
/// `"<path>: Error - <message>"`), joined with `"\n---\n"`.
pub fn render_batch_read(entries: &[BatchReadEntry]) -> String {
    entries
        .iter()
        .map(|(path, outcome)| match outcome {
            Ok(content) => format!("{path}:\n{content}\n"),
            Err(message) => format!("{path}: Error - {message}"),
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Parses a `read_multiple_files` text as the SDK does: a block starts at a line containing
/// `:`; its key is the text before the first `:`, trimmed, and text after the colon starts the
/// content; the content runs to a line that trims to `---`, is joined with `\n` and trimmed.
/// (Paths containing `:` and content lines equal to `---` are ambiguous in this format.)
/// Files in order of appearance.
pub fn parse_batch_read(text: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.split('\n') {
        match &mut current {
            None => {
                if let Some((path, rest)) = line.split_once(':') {
                    let rest = rest.trim();
                    let lines = if rest.is_empty() {
                        Vec::new()
                    } else {
                        vec![rest]
                    };
                    current = Some((path.trim().to_owned(), lines));
                }
            }
            Some(_) if line.trim() == "---" => {
                if let Some((path, lines)) = current.take() {
                    files.push((path, lines.join("\n").trim().to_owned()));
                }
            }
            Some((_, lines)) => lines.push(line),
        }
    }
    if let Some((path, lines)) = current {
        files.push((path, lines.join("\n").trim().to_owned()));
    }
    files
}

/// The `search_files` text for no match.
pub const NO_MATCHES: &str = "No matches found";

/// Renders a `search_files` text: full paths one per line, or `No matches found`.
pub fn render_search_results(paths: &[SandboxPath]) -> String {
    if paths.is_empty() {
        return NO_MATCHES.to_owned();
    }
    paths
        .iter()
        .map(SandboxPath::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a `search_files` text as the SDK does: trimmed, then split on `\n`; empty or
/// `No matches found` is no match.
pub fn parse_search_results(text: &str) -> Vec<String> {
    let text = text.trim();
    if text.is_empty() || text == NO_MATCHES {
        return Vec::new();
    }
    text.split('\n').map(str::to_owned).collect()
}

/// What happened to a watched path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Created.
    Create,
    /// Modified (each overwrite yields one).
    Modify,
    /// Deleted.
    Delete,
}

/// Whether a changed path is a file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathKind {
    /// A file.
    File,
    /// A directory.
    Directory,
}

/// One `get_file_change` event (capitalised keys accepted when decoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeEvent {
    /// What happened.
    #[serde(alias = "EventType")]
    pub event_type: ChangeKind,
    /// Absolute path.
    #[serde(alias = "Path")]
    pub path: String,
    /// File or directory.
    #[serde(alias = "PathType")]
    pub path_type: PathKind,
}

/// Renders a `get_file_change` text: a JSON array of events.
pub fn render_file_changes(events: &[FileChangeEvent]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

/// Parses a `get_file_change` text.
pub fn parse_file_changes(text: &str) -> Result<Vec<FileChangeEvent>, WireError> {
    serde_json::from_str(text).map_err(|err| WireError::json("get_file_change result", err))
}
