//! The session's file system: text and bytes (chunked transparently), listing, directories,
//! moves, removal, stat, search, edits, batch reads and a stream of changes.
//!
//! Every path is a [`SandboxPath`]: a relative path, a NUL byte or a `..` above `/` is
//! refused before any request.

use std::collections::VecDeque;
use std::time::Duration;

use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::fs::{
    CreateDirectoryArgs, DeleteFileArgs, DirEntry, EditFileArgs, FileChangeEvent, FileInfo,
    GetFileChangeArgs, GetFileInfoArgs, ListDirectoryArgs, MoveFileArgs, ReadFileArgs, ReadFormat,
    ReadMultipleFilesArgs, SearchFilesArgs, TextEdit, WriteFileArgs, WriteMode, decode_binary,
    parse_batch_read, parse_directory_listing, parse_file_changes, parse_search_results,
    read_chunks, write_chunks,
};
use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::command::shell_quote;
use crate::error::{Error, Result};
use crate::session::Session;

/// How many chunk reads of one file are in flight at once.
const READ_CONCURRENCY: usize = 8;

/// Bytes of non-UTF-8 content written per shell call (base64 grows them by a third).
const BINARY_WRITE_CHUNK: usize = 48 * 1024;

/// Anything that names a sandbox path: a `&str`/`String` (validated) or a [`SandboxPath`].
pub trait IntoSandboxPath {
    /// The validated path, or [`Error::InvalidArgument`].
    fn into_sandbox_path(self) -> Result<SandboxPath>;
}

impl IntoSandboxPath for SandboxPath {
    fn into_sandbox_path(self) -> Result<SandboxPath> {
        Ok(self)
    }
}

impl IntoSandboxPath for &SandboxPath {
    fn into_sandbox_path(self) -> Result<SandboxPath> {
        Ok(self.clone())
    }
}

impl IntoSandboxPath for &str {
    fn into_sandbox_path(self) -> Result<SandboxPath> {
        Ok(SandboxPath::parse(self)?)
    }
}

impl IntoSandboxPath for String {
    fn into_sandbox_path(self) -> Result<SandboxPath> {
        self.as_str().into_sandbox_path()
    }
}

impl IntoSandboxPath for &String {
    fn into_sandbox_path(self) -> Result<SandboxPath> {
        self.as_str().into_sandbox_path()
    }
}

/// File operations in one session.
#[derive(Debug, Clone, Copy)]
pub struct FileSystem<'s> {
    session: &'s Session,
}

impl<'s> FileSystem<'s> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Self { session }
    }

    async fn tool<A: agbcloud_wire::tools::ToolArgs>(&self, args: &A) -> Result<String> {
        let (text, _) = self
            .session
            .agb()
            .call_tool_ok(self.session.id(), args)
            .await?;
        Ok(text)
    }

    /// File information: size, kind, mode, times.
    pub async fn stat(self, path: impl IntoSandboxPath) -> Result<FileInfo> {
        let text = self
            .tool(&GetFileInfoArgs::new(path.into_sandbox_path()?))
            .await?;
        FileInfo::parse(&text).map_err(|source| Error::Decode {
            what: "get_file_info".to_owned(),
            source,
            request_id: None,
        })
    }

    /// True when `path` exists.
    pub async fn exists(self, path: impl IntoSandboxPath) -> Result<bool> {
        match self.stat(path).await {
            Ok(_) => Ok(true),
            Err(Error::Tool { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Reads a text file: `get_file_info`, then 51,200-byte ranges read in parallel.
    pub async fn read_text(self, path: impl IntoSandboxPath) -> Result<String> {
        let path = path.into_sandbox_path()?;
        let chunks = self.read_ranges(&path, None).await?;
        Ok(chunks.concat())
    }

    /// Reads a file's bytes (base64 on the wire), in parallel 51,200-byte ranges.
    pub async fn read_bytes(self, path: impl IntoSandboxPath) -> Result<Vec<u8>> {
        let path = path.into_sandbox_path()?;
        let chunks = self.read_ranges(&path, Some(ReadFormat::Binary)).await?;
        let mut bytes = Vec::new();
        for chunk in chunks {
            bytes.extend(decode_binary(&chunk).map_err(|source| Error::Decode {
                what: "read_file".to_owned(),
                source,
                request_id: None,
            })?);
        }
        Ok(bytes)
    }

    async fn read_ranges(
        self,
        path: &SandboxPath,
        format: Option<ReadFormat>,
    ) -> Result<Vec<String>> {
        let info = self.stat(path).await?;
        if info.is_directory {
            return Err(Error::Tool {
                tool: "read_file".to_owned(),
                message: format!("Path does not exist or is a directory: {path}"),
                request_id: None,
            });
        }
        futures_util::stream::iter(read_chunks(info.size))
            .map(|(offset, length)| {
                let args = ReadFileArgs {
                    path: path.clone(),
                    offset,
                    length: Some(length),
                    format,
                };
                async move { self.tool(&args).await }
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Writes a text file, replacing it: 51,200-character chunks, the first overwriting, the
    /// rest appending.
    pub async fn write_text(self, path: impl IntoSandboxPath, content: &str) -> Result<()> {
        self.write_with_mode(path, content, WriteMode::Overwrite)
            .await
    }

    /// Appends text to a file (creating it if missing).
    pub async fn append_text(self, path: impl IntoSandboxPath, content: &str) -> Result<()> {
        self.write_with_mode(path, content, WriteMode::Append).await
    }

    async fn write_with_mode(
        self,
        path: impl IntoSandboxPath,
        content: &str,
        mode: WriteMode,
    ) -> Result<()> {
        let path = path.into_sandbox_path()?;
        for args in write_chunks(&path, content, mode) {
            self.tool::<WriteFileArgs>(&args).await?;
        }
        Ok(())
    }

    /// Writes bytes, replacing the file. UTF-8 content goes through `write_file`; other bytes
    /// are sent base64-encoded through the shell (`base64 -d`), as `write_file` carries text.
    pub async fn write_bytes(self, path: impl IntoSandboxPath, bytes: &[u8]) -> Result<()> {
        let path = path.into_sandbox_path()?;
        if let Ok(text) = std::str::from_utf8(bytes) {
            return self.write_text(path, text).await;
        }
        let quoted = shell_quote(path.as_str());
        let mut first = true;
        for chunk in bytes.chunks(BINARY_WRITE_CHUNK) {
            let encoded = agbcloud_wire::tools::fs::encode_binary(chunk);
            let redirect = if first { ">" } else { ">>" };
            first = false;
            let output = self
                .session
                .command()
                .exec(format!(
                    "mkdir -p \"$(dirname {quoted})\" && printf '%s' '{encoded}' | base64 -d {redirect} {quoted}"
                ))
                .await?;
            if !output.success() {
                return Err(Error::Tool {
                    tool: "shell".to_owned(),
                    message: format!("binary write to {path} failed: {}", output.output()),
                    request_id: output.request_id,
                });
            }
        }
        Ok(())
    }

    /// Lists a directory.
    pub async fn list(self, path: impl IntoSandboxPath) -> Result<Vec<DirEntry>> {
        let text = self
            .tool(&ListDirectoryArgs::new(path.into_sandbox_path()?))
            .await?;
        Ok(parse_directory_listing(&text))
    }

    /// Creates a directory and its parents (`mkdir -p`).
    pub async fn mkdir(self, path: impl IntoSandboxPath) -> Result<()> {
        self.tool(&CreateDirectoryArgs::new(path.into_sandbox_path()?))
            .await
            .map(drop)
    }

    /// Moves or renames a file or directory.
    pub async fn rename(
        self,
        source: impl IntoSandboxPath,
        destination: impl IntoSandboxPath,
    ) -> Result<()> {
        let args = MoveFileArgs {
            source: source.into_sandbox_path()?,
            destination: destination.into_sandbox_path()?,
        };
        self.tool(&args).await.map(drop)
    }

    /// Removes a file or directory.
    pub async fn remove(self, path: impl IntoSandboxPath) -> Result<()> {
        self.tool(&DeleteFileArgs::new(path.into_sandbox_path()?))
            .await
            .map(drop)
    }

    /// Finds entries under `path` whose name matches the glob `pattern` (e.g. `*.txt`),
    /// skipping those matching any of `exclude`; full paths back.
    pub async fn search(
        self,
        path: impl IntoSandboxPath,
        pattern: &str,
        exclude: &[&str],
    ) -> Result<Vec<String>> {
        let args = SearchFilesArgs {
            path: path.into_sandbox_path()?,
            pattern: pattern.to_owned(),
            exclude_patterns: (!exclude.is_empty())
                .then(|| exclude.iter().map(|p| (*p).to_owned()).collect()),
        };
        Ok(parse_search_results(&self.tool(&args).await?))
    }

    /// Replaces `old` with `new` texts in a file, in order; `dry_run` only reports the diff.
    /// Returns the server's diff text.
    pub async fn edit(
        self,
        path: impl IntoSandboxPath,
        edits: &[(&str, &str)],
        dry_run: bool,
    ) -> Result<String> {
        let args = EditFileArgs {
            path: path.into_sandbox_path()?,
            edits: edits
                .iter()
                .map(|(old, new)| TextEdit {
                    old_text: (*old).to_owned(),
                    new_text: (*new).to_owned(),
                })
                .collect(),
            dry_run,
        };
        self.tool(&args).await
    }

    /// Reads several text files in one call; `(path, content)` pairs in the server's order,
    /// contents trimmed as the official SDK does.
    pub async fn read_many<P: IntoSandboxPath>(
        self,
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Vec<(String, String)>> {
        let paths = paths
            .into_iter()
            .map(IntoSandboxPath::into_sandbox_path)
            .collect::<Result<Vec<_>>>()?;
        let text = self.tool(&ReadMultipleFilesArgs { paths }).await?;
        Ok(parse_batch_read(&text))
    }

    /// The changes in directory `path` since the previous call for it (the first call sets
    /// the baseline).
    pub async fn changes(self, path: impl IntoSandboxPath) -> Result<Vec<FileChangeEvent>> {
        let text = self
            .tool(&GetFileChangeArgs::new(path.into_sandbox_path()?))
            .await?;
        parse_file_changes(&text).map_err(|source| Error::Decode {
            what: "get_file_change".to_owned(),
            source,
            request_id: None,
        })
    }

    /// A stream of changes in directory `path`, polled every `interval` after a baseline.
    /// It ends after the first error (for example when the session is gone).
    pub fn watch(
        &self,
        path: impl IntoSandboxPath,
        interval: Duration,
    ) -> impl Stream<Item = Result<FileChangeEvent>> + Send + 'static {
        struct State {
            session: Session,
            path: Result<SandboxPath>,
            pending: VecDeque<FileChangeEvent>,
            baseline: bool,
            done: bool,
        }
        let state = State {
            session: self.session.clone(),
            path: path.into_sandbox_path(),
            pending: VecDeque::new(),
            baseline: false,
            done: false,
        };
        futures_util::stream::unfold(state, move |mut state| async move {
            loop {
                if state.done {
                    return None;
                }
                if let Some(event) = state.pending.pop_front() {
                    return Some((Ok(event), state));
                }
                let path = match &state.path {
                    Ok(path) => path.clone(),
                    Err(_) => {
                        state.done = true;
                        let error = std::mem::replace(&mut state.path, Ok(SandboxPath::root()));
                        return error.err().map(|error| (Err(error), state));
                    }
                };
                if state.baseline {
                    tokio::time::sleep(interval).await;
                }
                match state.session.fs().changes(path).await {
                    Ok(events) if !state.baseline => {
                        state.baseline = true;
                        drop(events);
                    }
                    Ok(events) => state.pending.extend(events),
                    Err(error) => {
                        state.done = true;
                        return Some((Err(error), state));
                    }
                }
            }
        })
    }
}
