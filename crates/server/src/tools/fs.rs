//! File-system tools, confined to the session's own filesystem view (its private `/tmp`
//! and `/home/user`), by way of the sandbox's files API.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use agbcloud_sandbox::SandboxError;
use agbcloud_sandbox::files::{ChangeKind as SandboxChange, Files, Metadata};
use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::ToolCallData;
use agbcloud_wire::tools::fs::{
    BatchReadEntry, ChangeKind, CreateDirectoryArgs, DeleteFileArgs, DirEntry, EditFileArgs,
    FileChangeEvent, FileInfo, GetFileChangeArgs, GetFileInfoArgs, ListDirectoryArgs, MoveFileArgs,
    PathKind, ReadFileArgs, ReadFormat, ReadMultipleFilesArgs, SearchFilesArgs, WriteFileArgs,
    WriteMode, encode_binary, render_batch_read, render_directory_listing, render_file_changes,
    render_search_results,
};
use serde_json::{Map, Value};

use crate::envelope::ApiError;
use crate::registry::Session;
use crate::tools::args;

/// A tool's outcome: its text, or a tool-level failure text.
type Outcome = Result<String, String>;

/// Runs file tool `name`, or `None` when `name` is not a file tool.
pub async fn call(
    session: &Arc<Session>,
    name: &str,
    arguments: &Map<String, Value>,
) -> Option<Result<ToolCallData, ApiError>> {
    let op = match name {
        "create_directory" => wrap(arguments, create_directory),
        "edit_file" => wrap(arguments, edit_file),
        "get_file_info" => wrap(arguments, get_file_info),
        "list_directory" => wrap(arguments, list_directory),
        "move_file" => wrap(arguments, move_file),
        "delete_file" => wrap(arguments, delete_file),
        "read_file" => wrap(arguments, read_file),
        "write_file" => wrap(arguments, write_file),
        "read_multiple_files" => wrap(arguments, read_multiple_files),
        "search_files" => wrap(arguments, search_files),
        "get_file_change" => wrap(arguments, get_file_change),
        _ => return None,
    };
    Some(match op {
        Ok(op) => run_blocking(session, op).await,
        Err(err) => Err(err),
    })
}

/// A file operation with its arguments decoded, ready to run on a blocking thread.
type Op = Box<dyn FnOnce(&Files, &Session) -> Outcome + Send>;

fn wrap<A: agbcloud_wire::tools::ToolArgs + Send + 'static>(
    arguments: &Map<String, Value>,
    f: fn(&Files, &Session, A) -> Outcome,
) -> Result<Op, ApiError> {
    let parsed = args::<A>(arguments)?;
    Ok(Box::new(move |files: &Files, session: &Session| {
        f(files, session, parsed)
    }))
}

async fn run_blocking(session: &Arc<Session>, op: Op) -> Result<ToolCallData, ApiError> {
    let files = match session.sandbox.files() {
        Ok(files) => files,
        Err(SandboxError::Gone(_)) => return Err(ApiError::session_not_found()),
        Err(err) => return Err(ApiError::internal(err.to_string())),
    };
    let session = Arc::clone(session);
    let outcome = tokio::task::spawn_blocking(move || op(&files, &session))
        .await
        .map_err(|err| ApiError::internal(format!("file tool failed: {err}")))?;
    Ok(match outcome {
        Ok(text) => ToolCallData::ok(text),
        Err(text) => ToolCallData::error(text),
    })
}

fn fail(err: SandboxError) -> String {
    err.to_string()
}

fn ensure_parent(files: &Files, path: &SandboxPath) -> Result<(), String> {
    match path.parent() {
        Some(parent) if !parent.is_root() => files.mkdir_all(parent.as_str()).map_err(fail),
        _ => Ok(()),
    }
}

fn create_directory(files: &Files, _: &Session, args: CreateDirectoryArgs) -> Outcome {
    files.mkdir_all(args.path.as_str()).map_err(fail)?;
    Ok(format!("Successfully created directory {}", args.path))
}

fn read_text(files: &Files, path: &SandboxPath) -> Result<String, String> {
    let bytes = files.read(path.as_str(), 0, None).map_err(fail)?;
    String::from_utf8(bytes).map_err(|_| format!("{path} is not a UTF-8 text file"))
}

fn edit_file(files: &Files, _: &Session, args: EditFileArgs) -> Outcome {
    let original = read_text(files, &args.path)?;
    let mut content = original.clone();
    let mut diff = format!("--- {path}\n+++ {path}\n", path = args.path);
    for edit in &args.edits {
        if edit.old_text.is_empty() {
            return Err(format!("edit of {}: oldText must not be empty", args.path));
        }
        if !content.contains(&edit.old_text) {
            return Err(format!(
                "edit of {}: could not find oldText {:?}; the file was not changed",
                args.path, edit.old_text
            ));
        }
        content = content.replacen(&edit.old_text, &edit.new_text, 1);
        for line in edit.old_text.lines() {
            diff.push_str(&format!("-{line}\n"));
        }
        for line in edit.new_text.lines() {
            diff.push_str(&format!("+{line}\n"));
        }
    }
    if !args.dry_run {
        files
            .write(args.path.as_str(), content.as_bytes())
            .map_err(fail)?;
    }
    Ok(diff)
}

fn mode_string(meta: &Metadata) -> (String, String) {
    let bits = meta.mode;
    let mut permissions = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let triple = (bits >> shift) & 0o7;
        permissions.push(if triple & 4 != 0 { 'r' } else { '-' });
        permissions.push(if triple & 2 != 0 { 'w' } else { '-' });
        permissions.push(if triple & 1 != 0 { 'x' } else { '-' });
    }
    let kind = if meta.is_dir { 'd' } else { '-' };
    (format!("{kind}{permissions}"), permissions)
}

fn get_file_info(files: &Files, _: &Session, args: GetFileInfoArgs) -> Outcome {
    let meta = files.stat(args.path.as_str()).map_err(fail)?;
    let (mode, permissions) = mode_string(&meta);
    let mod_time = meta
        .mtime
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs().to_string())
        .ok();
    let info = FileInfo {
        name: args.path.file_name().unwrap_or("/").to_owned(),
        path: args.path.to_string(),
        size: meta.size,
        is_directory: meta.is_dir,
        is_file: !meta.is_dir,
        mod_time,
        mode: Some(mode),
        permissions: Some(permissions),
        ..FileInfo::default()
    };
    Ok(info.render())
}

fn list_directory(files: &Files, _: &Session, args: ListDirectoryArgs) -> Outcome {
    let mut entries: Vec<DirEntry> = files
        .list(args.path.as_str())
        .map_err(fail)?
        .into_iter()
        .map(|entry| {
            let is_directory = entry.meta.is_dir
                || (entry.meta.is_symlink
                    && args
                        .path
                        .join(&entry.name)
                        .ok()
                        .and_then(|full| files.stat(full.as_str()).ok())
                        .is_some_and(|meta| meta.is_dir));
            DirEntry {
                name: entry.name,
                is_directory,
            }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(render_directory_listing(&entries))
}

fn move_file(files: &Files, _: &Session, args: MoveFileArgs) -> Outcome {
    files.stat(args.source.as_str()).map_err(fail)?;
    ensure_parent(files, &args.destination)?;
    files
        .rename(args.source.as_str(), args.destination.as_str())
        .map_err(fail)?;
    Ok(format!(
        "Successfully moved {} to {}",
        args.source, args.destination
    ))
}

fn delete_file(files: &Files, _: &Session, args: DeleteFileArgs) -> Outcome {
    if args.path.is_root() {
        return Err("refusing to delete /".to_owned());
    }
    let meta = files.stat(args.path.as_str()).map_err(fail)?;
    files
        .remove(args.path.as_str(), meta.is_dir)
        .map_err(fail)?;
    Ok(format!("Successfully deleted {}", args.path))
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// The text of a byte range (§4.3): a character cut at the end is completed (up to 3 more
/// bytes) and, at a non-zero offset, continuation bytes at the start are skipped, so that
/// consecutive ranges concatenate to the exact text.
pub fn text_range(buffer: &[u8], offset: u64, length: usize) -> String {
    let mut end = length.min(buffer.len());
    while end < buffer.len() && end < length.saturating_add(3) && is_continuation(buffer[end]) {
        end += 1;
    }
    let mut start = 0;
    if offset > 0 {
        while start < end && start < 3 && is_continuation(buffer[start]) {
            start += 1;
        }
    }
    String::from_utf8_lossy(&buffer[start..end]).into_owned()
}

fn read_file(files: &Files, _: &Session, args: ReadFileArgs) -> Outcome {
    let length = args.length.filter(|length| *length > 0);
    match args.format.unwrap_or(ReadFormat::Text) {
        ReadFormat::Binary => {
            let bytes = files
                .read(args.path.as_str(), args.offset, length)
                .map_err(fail)?;
            Ok(encode_binary(&bytes))
        }
        ReadFormat::Text => match length {
            None => {
                let bytes = files
                    .read(args.path.as_str(), args.offset, None)
                    .map_err(fail)?;
                Ok(text_range(&bytes, args.offset, bytes.len()))
            }
            Some(length) => {
                let bytes = files
                    .read(
                        args.path.as_str(),
                        args.offset,
                        Some(length.saturating_add(3)),
                    )
                    .map_err(fail)?;
                let length = usize::try_from(length).unwrap_or(usize::MAX);
                Ok(text_range(&bytes, args.offset, length))
            }
        },
    }
}

fn write_file(files: &Files, _: &Session, args: WriteFileArgs) -> Outcome {
    let path = args.path.as_str();
    ensure_parent(files, &args.path)?;
    let data = args.content.as_bytes();
    match args.mode {
        WriteMode::Overwrite => files.write(path, data).map_err(fail)?,
        WriteMode::Append => files.append(path, data).map_err(fail)?,
        WriteMode::CreateNew => {
            if files.exists(path).map_err(fail)? {
                return Err(format!("{path} already exists"));
            }
            files.write(path, data).map_err(fail)?;
        }
    }
    Ok(format!(
        "Successfully wrote {} bytes to {path}",
        args.content.len()
    ))
}

fn read_multiple_files(files: &Files, _: &Session, args: ReadMultipleFilesArgs) -> Outcome {
    let entries: Vec<BatchReadEntry> = args
        .paths
        .iter()
        .map(|path| (path.to_string(), read_text(files, path)))
        .collect();
    Ok(render_batch_read(&entries))
}

/// Glob match of a whole name: `*`, `?` and `[...]` classes (with `!`/`^` negation).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    glob_at(&pattern, &name)
}

fn glob_at(pattern: &[char], name: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| glob_at(&pattern[1..], &name[skip..])),
        Some('?') => !name.is_empty() && glob_at(&pattern[1..], &name[1..]),
        Some('[') => {
            let Some(close) = pattern
                .iter()
                .skip(2)
                .position(|c| *c == ']')
                .map(|i| i + 2)
            else {
                return name.first() == Some(&'[') && glob_at(&pattern[1..], &name[1..]);
            };
            let Some(&c) = name.first() else { return false };
            let mut class = &pattern[1..close];
            let negate = matches!(class.first(), Some('!' | '^'));
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && glob_at(&pattern[close + 1..], &name[1..])
        }
        Some(&literal) => name.first() == Some(&literal) && glob_at(&pattern[1..], &name[1..]),
    }
}

/// Most entries a search visits.
const MAX_SEARCH: usize = 100_000;

fn search_files(files: &Files, _: &Session, args: SearchFilesArgs) -> Outcome {
    let excludes = args.exclude_patterns.unwrap_or_default();
    let excluded = |name: &str| excludes.iter().any(|pattern| glob_match(pattern, name));
    let mut found = Vec::new();
    let mut stack = vec![args.path.clone()];
    let mut visited = 0;
    files.list(args.path.as_str()).map_err(fail)?;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = files.list(dir.as_str()) else {
            continue;
        };
        for entry in entries {
            visited += 1;
            if visited > MAX_SEARCH || excluded(&entry.name) {
                continue;
            }
            let Ok(full) = dir.join(&entry.name) else {
                continue;
            };
            if glob_match(&args.pattern, &entry.name) {
                found.push(full.clone());
            }
            if entry.meta.is_dir && !entry.meta.is_symlink {
                stack.push(full);
            }
        }
    }
    found.sort();
    Ok(render_search_results(&found))
}

fn get_file_change(files: &Files, session: &Session, args: GetFileChangeArgs) -> Outcome {
    let now = files.snapshot(args.path.as_str()).map_err(fail)?;
    let Some(before) = session.swap_watch(args.path.as_str(), now.clone()) else {
        return Ok(render_file_changes(&[]));
    };
    let events: Vec<FileChangeEvent> = before
        .diff(&now)
        .into_iter()
        .map(|change| FileChangeEvent {
            event_type: match change.kind {
                SandboxChange::Created => ChangeKind::Create,
                SandboxChange::Modified => ChangeKind::Modify,
                SandboxChange::Deleted => ChangeKind::Delete,
            },
            path: change.path,
            path_type: if change.is_dir {
                PathKind::Directory
            } else {
                PathKind::File
            },
        })
        .collect();
    Ok(render_file_changes(&events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ranges_concatenate_exactly() {
        let text = "aé€😀".repeat(50);
        let bytes = text.as_bytes();
        for chunk in 1..12 {
            let mut joined = String::new();
            let mut offset = 0;
            while offset < bytes.len() {
                let length = chunk.min(bytes.len() - offset);
                let end = (offset + length + 3).min(bytes.len());
                joined.push_str(&text_range(&bytes[offset..end], offset as u64, length));
                offset += length;
            }
            assert_eq!(joined, text, "chunk {chunk}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "a.txt.bak"));
        assert!(glob_match("b.*", "b.txt"));
        assert!(glob_match("sub", "sub"));
        assert!(glob_match("?.md", "a.md"));
        assert!(glob_match("[ab].md", "b.md"));
        assert!(!glob_match("[!ab].md", "b.md"));
    }
}
