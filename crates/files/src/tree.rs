//! Walking trees: a local directory (symlinks skipped or followed, as asked) and a remote one
//! (through `list_directory`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;

use crate::error::{Result, TransferError};

/// What a directory transfer does with local symbolic links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Symlinks {
    /// Skip them, whatever they point to (the default: nothing outside the tree is sent).
    #[default]
    Skip,
    /// Follow them: a link to a file is sent as that file, a link to a directory is walked
    /// (each real directory once, so a cycle ends). A dangling link is an error for its file.
    Follow,
}

/// A tree's directories and files, as `/`-separated paths relative to its root.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// Every directory below the root, parents before children.
    pub(crate) dirs: Vec<String>,
    /// Every file below the root.
    pub(crate) files: Vec<String>,
}

/// Walks a local directory (in a blocking task).
pub(crate) async fn walk_local(root: &Path, symlinks: Symlinks) -> Result<Tree> {
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tree = Tree::default();
        let mut seen = HashSet::new();
        if let Ok(real) = std::fs::canonicalize(&root) {
            seen.insert(real);
        }
        walk_dir(&root, "", symlinks, &mut seen, &mut tree)?;
        Ok(tree)
    })
    .await
    .map_err(|error| TransferError::Local {
        path: PathBuf::new(),
        source: std::io::Error::other(error),
    })?
}

fn walk_dir(
    dir: &Path,
    rel: &str,
    symlinks: Symlinks,
    seen: &mut HashSet<PathBuf>,
    tree: &mut Tree,
) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(TransferError::local(dir))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(TransferError::local(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| TransferError::Local {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("file name {name:?} is not UTF-8"),
                ),
            })?;
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let mut kind = entry.file_type().map_err(TransferError::local(&path))?;
        if kind.is_symlink() {
            if symlinks == Symlinks::Skip {
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(target) => kind = target.file_type(),
                Err(_) => {
                    // Dangling: kept as a file, whose open fails and is reported.
                    tree.files.push(child);
                    continue;
                }
            }
            if kind.is_dir() {
                let real = std::fs::canonicalize(&path).map_err(TransferError::local(&path))?;
                if !seen.insert(real) {
                    continue;
                }
            }
        }
        if kind.is_dir() {
            tree.dirs.push(child.clone());
            walk_dir(&path, &child, symlinks, seen, tree)?;
        } else if kind.is_file() {
            tree.files.push(child);
        }
    }
    Ok(())
}

/// How deep a remote walk goes before it is taken for a symbolic-link cycle.
pub(crate) const MAX_REMOTE_DEPTH: usize = 32;

/// Walks a remote directory with `list_directory`. Entries are what the server lists as
/// `[DIR]` or `[FILE]` (a link to a directory is listed as a directory, so a link cycle is
/// cut at [`MAX_REMOTE_DEPTH`] levels, as an error).
pub(crate) async fn walk_remote(session: &Session, root: &SandboxPath) -> Result<Tree> {
    let mut tree = Tree::default();
    let mut pending = vec![(String::new(), 0)];
    while let Some((rel, depth)) = pending.pop() {
        if depth > MAX_REMOTE_DEPTH {
            return Err(TransferError::Remote {
                path: join(root, &rel)?.to_string(),
                message: format!(
                    "more than {MAX_REMOTE_DEPTH} directory levels below {root} (a symbolic-link cycle?)"
                ),
                request_id: None,
            });
        }
        let dir = join(root, &rel)?;
        let entries = session
            .fs()
            .list(&dir)
            .await
            .map_err(TransferError::session(&dir))?;
        for entry in entries {
            let child = if rel.is_empty() {
                entry.name
            } else {
                format!("{rel}/{}", entry.name)
            };
            if entry.is_directory {
                tree.dirs.push(child.clone());
                pending.push((child, depth + 1));
            } else {
                tree.files.push(child);
            }
        }
    }
    tree.dirs.sort();
    tree.files.sort();
    Ok(tree)
}

/// `root/rel` (the root itself for an empty `rel`).
pub(crate) fn join(root: &SandboxPath, rel: &str) -> Result<SandboxPath> {
    if rel.is_empty() {
        return Ok(root.clone());
    }
    root.join(rel)
        .map_err(|source| TransferError::InvalidRemotePath {
            path: format!("{root}/{rel}"),
            source,
        })
}
