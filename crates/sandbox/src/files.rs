//! File tools confined to one sandbox's filesystem view.
//!
//! Every path is resolved from the sandbox's root (its init's `/proc/<pid>/root`) with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, so the tools see its private `/tmp`
//! and `/home/user`, symlinks cannot leave it, and `..` components are refused outright.
//! Each operation runs with the sandbox user's filesystem credentials (per thread), so the
//! kernel applies that user's permissions and new files belong to it.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Result, SandboxError};
use crate::sys::fs as sysfs;

/// Metadata of a file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Size in bytes.
    pub size: u64,
    /// It is a directory.
    pub is_dir: bool,
    /// It is a symbolic link (only from [`Files::list`], which does not follow links).
    pub is_symlink: bool,
    /// Modification time.
    pub mtime: SystemTime,
    /// Permission bits (`0o7777`).
    pub mode: u32,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// File name.
    pub name: String,
    /// Its metadata (not following symlinks).
    pub meta: Metadata,
}

/// What happened to a path between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It appeared.
    Created,
    /// Its size or mtime changed.
    Modified,
    /// It disappeared.
    Deleted,
}

/// A change found by [`Snapshot::diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute sandbox path.
    pub path: String,
    /// What happened.
    pub kind: ChangeKind,
    /// Whether it is (or was) a directory.
    pub is_dir: bool,
}

/// The state of a directory tree at one moment, for change feeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    entries: BTreeMap<String, (u64, SystemTime, bool)>,
}

impl Snapshot {
    /// The changes that lead from `self` (older) to `newer`.
    pub fn diff(&self, newer: &Snapshot) -> Vec<Change> {
        let mut out = Vec::new();
        for (p, &(size, mtime, is_dir)) in &newer.entries {
            match self.entries.get(p) {
                None => out.push(Change {
                    path: p.clone(),
                    kind: ChangeKind::Created,
                    is_dir,
                }),
                Some(&(s, m, _)) if !is_dir && (s != size || m != mtime) => out.push(Change {
                    path: p.clone(),
                    kind: ChangeKind::Modified,
                    is_dir,
                }),
                _ => {}
            }
        }
        for (p, &(_, _, is_dir)) in &self.entries {
            if !newer.entries.contains_key(p) {
                out.push(Change {
                    path: p.clone(),
                    kind: ChangeKind::Deleted,
                    is_dir,
                });
            }
        }
        out
    }

    /// Number of paths in the snapshot.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the snapshot is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// File operations inside one sandbox. Cheap to clone; blocking (fast syscalls), so async
/// callers may call them directly or through `spawn_blocking` for large transfers.
#[derive(Debug, Clone)]
pub struct Files {
    root: Arc<OwnedFd>,
    uid: u32,
    gid: u32,
}

/// Limits a walk (glob, snapshot) so a huge tree cannot stall the server.
const MAX_WALK: usize = 100_000;

impl Files {
    pub(crate) fn new(root: Arc<OwnedFd>, uid: u32, gid: u32) -> Files {
        Files { root, uid, gid }
    }

    fn as_user<T>(
        &self,
        op: &'static str,
        path: &str,
        f: impl FnOnce() -> std::io::Result<T>,
    ) -> Result<T> {
        let _creds = sysfs::FsCredsGuard::switch(self.uid, self.gid)
            .map_err(|e| SandboxError::io("switch fs uid", e))?;
        f().map_err(|source| SandboxError::File {
            op,
            path: path.to_owned(),
            source,
        })
    }

    fn open(&self, path: &str, flags: libc::c_int, mode: u32) -> std::io::Result<OwnedFd> {
        sysfs::open_in_root(self.root.as_fd(), path, flags, mode)
    }

    /// Opens the parent directory of `path` and returns it with the final name.
    fn parent(&self, path: &str) -> std::io::Result<(OwnedFd, CString)> {
        let (dir, name) = split(path);
        let fd = self.open(dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        let name = CString::new(name)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        Ok((fd, name))
    }

    /// Reads `len` bytes (all when `None`) from `offset`. Reading past the end returns less.
    pub fn read(&self, path: &str, offset: u64, len: Option<u64>) -> Result<Vec<u8>> {
        let path = check(path)?;
        self.as_user("read", path, || {
            let fd = self.open(path, libc::O_RDONLY, 0)?;
            let st = sysfs::fstat(fd.as_fd())?;
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                return Err(std::io::Error::from_raw_os_error(libc::EISDIR));
            }
            let want = len.unwrap_or(u64::MAX);
            let mut out = Vec::with_capacity(
                (st.st_size as u64)
                    .saturating_sub(offset)
                    .min(want)
                    .min(64 << 20) as usize,
            );
            let mut buf = vec![0u8; 256 * 1024];
            let mut pos = offset;
            while (out.len() as u64) < want {
                let chunk = ((want - out.len() as u64).min(buf.len() as u64)) as usize;
                let n = sysfs::pread(fd.as_fd(), &mut buf[..chunk], pos)?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
                pos += n as u64;
            }
            Ok(out)
        })
    }

    /// Creates or replaces `path` with `data` (mode 0644); the parent must exist.
    pub fn write(&self, path: &str, data: &[u8]) -> Result<()> {
        let path = check(path)?;
        self.as_user("write", path, || {
            let fd = self.open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644)?;
            write_all(fd.as_fd(), data, Some(0))
        })
    }

    /// Writes `data` at byte `offset`, creating the file if needed and keeping the rest.
    pub fn write_at(&self, path: &str, offset: u64, data: &[u8]) -> Result<()> {
        let path = check(path)?;
        self.as_user("write", path, || {
            let fd = self.open(path, libc::O_WRONLY | libc::O_CREAT, 0o644)?;
            write_all(fd.as_fd(), data, Some(offset))
        })
    }

    /// Appends `data`, creating the file if needed.
    pub fn append(&self, path: &str, data: &[u8]) -> Result<()> {
        let path = check(path)?;
        self.as_user("append", path, || {
            let fd = self.open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND, 0o644)?;
            write_all(fd.as_fd(), data, None)
        })
    }

    /// Truncates (or extends with zeros) to `len` bytes.
    pub fn truncate(&self, path: &str, len: u64) -> Result<()> {
        let path = check(path)?;
        self.as_user("truncate", path, || {
            let fd = self.open(path, libc::O_WRONLY, 0)?;
            sysfs::ftruncate(fd.as_fd(), len)
        })
    }

    /// Creates `path` and any missing parents (`mkdir -p`, mode 0755).
    pub fn mkdir_all(&self, path: &str) -> Result<()> {
        let path = check(path)?;
        self.as_user("mkdir", path, || {
            let mut cur = String::new();
            for comp in path.split('/').filter(|c| !c.is_empty()) {
                let parent = if cur.is_empty() {
                    "/".to_owned()
                } else {
                    cur.clone()
                };
                cur.push('/');
                cur.push_str(comp);
                let dir = self.open(&parent, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                let name = CString::new(comp)
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
                match sysfs::mkdirat(dir.as_fd(), &name, 0o755) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                        // Must be a directory (following links within the root).
                        self.open(&cur, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }

    /// Metadata of `path`, following symlinks (inside the sandbox).
    pub fn stat(&self, path: &str) -> Result<Metadata> {
        let path = check(path)?;
        self.as_user("stat", path, || {
            let fd = self.open(path, libc::O_PATH, 0)?;
            Ok(meta(&sysfs::fstat(fd.as_fd())?))
        })
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> Result<bool> {
        match self.stat(path) {
            Ok(_) => Ok(true),
            Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The entries of a directory, sorted by name.
    pub fn list(&self, path: &str) -> Result<Vec<DirEntry>> {
        let path = check(path)?;
        self.as_user("list", path, || {
            let dir = self.open(path, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
            list_fd(dir.as_fd())
        })
    }

    /// Renames `from` to `to` (both inside the sandbox; replaces a file at `to`).
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let from = check(from)?;
        let to = check(to)?;
        self.as_user("rename", from, || {
            let (fd_a, a) = self.parent(from)?;
            let (fd_b, b) = self.parent(to)?;
            sysfs::renameat(fd_a.as_fd(), &a, fd_b.as_fd(), &b)
        })
    }

    /// Deletes a file, a symlink or an empty directory; with `recursive`, a whole tree.
    pub fn remove(&self, path: &str, recursive: bool) -> Result<()> {
        let path = check(path)?;
        if path == "/" {
            return Err(SandboxError::InvalidPath {
                path: path.into(),
                reason: "refusing to remove /",
            });
        }
        self.as_user("remove", path, || {
            let (dir, name) = self.parent(path)?;
            remove_at(dir.as_fd(), &name, recursive)
        })
    }

    /// Replaces `old` with `new` in a text file: the first occurrence, or all with `all`.
    /// Returns how many were replaced; finding none is an error.
    pub fn edit(&self, path: &str, old: &str, new: &str, all: bool) -> Result<usize> {
        if old.is_empty() {
            return Err(SandboxError::InvalidArgument(
                "edit: the text to replace is empty".into(),
            ));
        }
        let data = self.read(path, 0, None)?;
        let text = String::from_utf8(data)
            .map_err(|_| SandboxError::InvalidArgument(format!("edit {path}: not UTF-8 text")))?;
        let count = if all {
            text.matches(old).count()
        } else {
            usize::from(text.contains(old))
        };
        if count == 0 {
            return Err(SandboxError::EditNotFound {
                path: path.to_owned(),
            });
        }
        let replaced = if all {
            text.replace(old, new)
        } else {
            text.replacen(old, new, 1)
        };
        self.write(path, replaced.as_bytes())?;
        Ok(count)
    }

    /// Paths under `dir` whose path relative to `dir` matches `pattern` (`*`, `?`, `**`).
    pub fn glob(&self, dir: &str, pattern: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk(dir, &mut |rel, abs, _| {
            if glob_match(pattern.as_bytes(), rel.as_bytes()) {
                out.push(abs.to_owned());
            }
        })?;
        out.sort();
        Ok(out)
    }

    /// Records the tree under `dir` for a later [`Snapshot::diff`].
    pub fn snapshot(&self, dir: &str) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        self.walk(dir, &mut |_, abs, m| {
            snap.entries
                .insert(abs.to_owned(), (m.size, m.mtime, m.is_dir));
        })?;
        Ok(snap)
    }

    /// A change feed: every `interval`, the changes under `dir` since the previous look.
    /// The feed stops when the receiver is dropped or the sandbox goes away.
    pub fn watch(
        &self,
        dir: &str,
        interval: Duration,
    ) -> Result<tokio::sync::mpsc::Receiver<Vec<Change>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let files = self.clone();
        let dir = dir.to_owned();
        let mut last = files.snapshot(&dir)?;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let f = files.clone();
                let d = dir.clone();
                let Ok(Ok(now)) = tokio::task::spawn_blocking(move || f.snapshot(&d)).await else {
                    return;
                };
                let changes = last.diff(&now);
                last = now;
                if !changes.is_empty() && tx.send(changes).await.is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }

    fn walk(&self, dir: &str, f: &mut dyn FnMut(&str, &str, &Metadata)) -> Result<()> {
        let dir = check(dir)?;
        self.as_user("walk", dir, || {
            let base = dir.trim_end_matches('/');
            let mut stack = vec![String::new()];
            let mut seen = 0;
            while let Some(rel) = stack.pop() {
                let abs = if rel.is_empty() {
                    dir.to_owned()
                } else {
                    format!("{base}/{rel}")
                };
                let Ok(fd) = self.open(
                    &abs,
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                ) else {
                    continue;
                };
                for e in list_fd(fd.as_fd())? {
                    seen += 1;
                    if seen > MAX_WALK {
                        return Ok(());
                    }
                    let r = if rel.is_empty() {
                        e.name.clone()
                    } else {
                        format!("{rel}/{}", e.name)
                    };
                    let a = format!("{base}/{r}");
                    f(&r, &a, &e.meta);
                    if e.meta.is_dir {
                        stack.push(r);
                    }
                }
            }
            Ok(())
        })
    }
}

/// Refuses relative paths, NUL bytes and `..` components.
fn check(path: &str) -> Result<&str> {
    let bad = |reason| SandboxError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(bad("must be absolute"));
    }
    if path.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(bad("must not contain `..`"));
    }
    Ok(path)
}

fn split(path: &str) -> (&str, &str) {
    let p = path.trim_end_matches('/');
    match p.rfind('/') {
        Some(0) => ("/", &p[1..]),
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("/", p),
    }
}

fn write_all(fd: BorrowedFd<'_>, mut data: &[u8], mut offset: Option<u64>) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = sysfs::pwrite(fd, data, offset)?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero));
        }
        data = &data[n..];
        offset = offset.map(|o| o + n as u64);
    }
    Ok(())
}

fn meta(st: &libc::stat) -> Metadata {
    let kind = st.st_mode & libc::S_IFMT;
    Metadata {
        size: st.st_size as u64,
        is_dir: kind == libc::S_IFDIR,
        is_symlink: kind == libc::S_IFLNK,
        mtime: UNIX_EPOCH
            + Duration::new(
                st.st_mtime.max(0) as u64,
                st.st_mtime_nsec.clamp(0, 999_999_999) as u32,
            ),
        mode: st.st_mode & 0o7777,
    }
}

fn list_fd(dir: BorrowedFd<'_>) -> std::io::Result<Vec<DirEntry>> {
    let mut out = Vec::new();
    for name in sysfs::read_dir(dir)? {
        let Ok(st) = sysfs::lstatat(dir, &name) else {
            continue;
        };
        out.push(DirEntry {
            name: name.to_string_lossy().into_owned(),
            meta: meta(&st),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn remove_at(dir: BorrowedFd<'_>, name: &CStr, recursive: bool) -> std::io::Result<()> {
    let st = sysfs::lstatat(dir, name)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return sysfs::unlinkat(dir, name, false);
    }
    if recursive {
        let sub = sysfs::open_in_root(
            dir,
            &name.to_string_lossy(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?;
        for child in sysfs::read_dir(sub.as_fd())? {
            remove_at(sub.as_fd(), &child, true)?;
        }
    }
    sysfs::unlinkat(dir, name, true)
}

/// Glob matching on `/`-separated paths: `*` and `?` stay within a component, `**` spans
/// components.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    if pat.is_empty() {
        return s.is_empty();
    }
    if pat.starts_with(b"**") {
        let rest = pat[2..].strip_prefix(b"/").unwrap_or(&pat[2..]);
        return (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && glob_match(rest, &s[i..]))
            || glob_match(rest, s);
    }
    match pat[0] {
        b'*' => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != b'/')
            .any(|i| glob_match(&pat[1..], &s[i..])),
        b'?' => !s.is_empty() && s[0] != b'/' && glob_match(&pat[1..], &s[1..]),
        c => !s.is_empty() && s[0] == c && glob_match(&pat[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(glob_match(b"*.py", b"a.py"));
        assert!(!glob_match(b"*.py", b"d/a.py"));
        assert!(glob_match(b"**/*.py", b"d/e/a.py"));
        assert!(glob_match(b"**/*.py", b"a.py"));
        assert!(glob_match(b"d/?.txt", b"d/x.txt"));
        assert!(!glob_match(b"d/?.txt", b"d/xy.txt"));
    }

    #[test]
    fn path_checks() {
        assert!(check("/home/user/a").is_ok());
        assert!(check("relative").is_err());
        assert!(check("/home/../etc").is_err());
        assert!(check("/a\0b").is_err());
        assert_eq!(split("/a/b"), ("/a", "b"));
        assert_eq!(split("/a"), ("/", "a"));
    }

    #[test]
    fn snapshot_diff() {
        let t = UNIX_EPOCH;
        let mut a = Snapshot::default();
        a.entries.insert("/x".into(), (1, t, false));
        a.entries.insert("/y".into(), (1, t, false));
        let mut b = Snapshot::default();
        b.entries.insert("/x".into(), (2, t, false));
        b.entries.insert("/z".into(), (1, t, false));
        let d = a.diff(&b);
        assert_eq!(d.len(), 3);
        assert!(d.contains(&Change {
            path: "/y".into(),
            kind: ChangeKind::Deleted,
            is_dir: false
        }));
    }
}
