//! Mounts, root changes, confined path resolution and per-thread filesystem credentials.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::{cvt, cvt_long, retry};

fn cstr(p: &Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn opt_cstr(s: Option<&str>) -> io::Result<Option<CString>> {
    s.map(|s| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput)))
        .transpose()
}

/// `mount(2)`.
pub(crate) fn mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let source = opt_cstr(source)?;
    let fstype = opt_cstr(fstype)?;
    let data = opt_cstr(data)?;
    let target = cstr(target)?;
    let p = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is NULL or a NUL-terminated string that outlives the call.
    cvt(unsafe {
        libc::mount(
            p(&source),
            target.as_ptr(),
            p(&fstype),
            flags,
            p(&data).cast(),
        )
    })
    .map(drop)
}

/// `umount2(2)`.
pub(crate) fn umount(target: &Path, flags: libc::c_int) -> io::Result<()> {
    let target = cstr(target)?;
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::umount2(target.as_ptr(), flags) }).map(drop)
}

/// `pivot_root(new_root, put_old)`.
pub(crate) fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    let a = cstr(new_root)?;
    let b = cstr(put_old)?;
    // SAFETY: NUL-terminated paths.
    cvt_long(unsafe { libc::syscall(libc::SYS_pivot_root, a.as_ptr(), b.as_ptr()) }).map(drop)
}

/// Creates a character device node (real root only).
pub(crate) fn mknod_char(path: &Path, mode: u32, rdev: u64) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: NUL-terminated path; plain integers.
    cvt(unsafe { libc::mknod(p.as_ptr(), libc::S_IFCHR | mode, rdev) }).map(drop)
}

/// `chown(2)` without following a final symlink.
pub(crate) fn lchown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::lchown(p.as_ptr(), uid, gid) }).map(drop)
}

/// Opens `path` relative to `root` as if `root` were `/`: `..` and symlinks cannot leave it,
/// and magic links (`/proc/*/fd`, `/proc/*/root`) are refused.
pub(crate) fn open_in_root(
    root: BorrowedFd<'_>,
    path: &str,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    let p = CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is plain data; all-zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
        mode as u64
    } else {
        0
    };
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    let fd = retry(|| {
        // SAFETY: `how` is a valid open_how of the size passed; `p` is NUL-terminated.
        cvt_long(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                p.as_ptr(),
                &how as *const libc::open_how,
                size_of::<libc::open_how>(),
            )
        })
    })?;
    // SAFETY: openat2 returned a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Opens a host path (no confinement) with close-on-exec.
pub(crate) fn open(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    // SAFETY: NUL-terminated path; the result is a fresh fd we own.
    let fd = retry(|| cvt(unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC) }))?;
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `mkdirat(2)`.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

/// `unlinkat(2)`; `dir_flag` removes a directory.
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, dir_flag: bool) -> io::Result<()> {
    let flags = if dir_flag { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: valid fd and NUL-terminated name.
    cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

/// `renameat(2)` between two directories.
pub(crate) fn renameat(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> io::Result<()> {
    // SAFETY: valid fds and NUL-terminated names.
    cvt(unsafe {
        libc::renameat(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
        )
    })
    .map(drop)
}

/// `fstatat(2)` of `name` in `dir` without following a final symlink (empty name: `dir`).
pub(crate) fn lstatat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | if name.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: `st` is a valid out pointer; fd and name are valid.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        cvt(libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            flags,
        ))?;
        Ok(st)
    }
}

/// Reads up to `buf.len()` bytes at `offset`.
pub(crate) fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let n = retry(|| {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe {
            libc::pread(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                offset as libc::off_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })?;
    Ok(n)
}

/// Writes `buf` at `offset` (or, with `None`, at the current position).
pub(crate) fn pwrite(fd: BorrowedFd<'_>, buf: &[u8], offset: Option<u64>) -> io::Result<usize> {
    retry(|| {
        // SAFETY: `buf` is valid for reads of its length.
        let n = unsafe {
            match offset {
                Some(o) => libc::pwrite(
                    fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    o as libc::off_t,
                ),
                None => libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()),
            }
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })
}

/// Truncates an open file to `len`.
pub(crate) fn ftruncate(fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
    // SAFETY: valid fd.
    cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) }).map(drop)
}

/// Lists the names in an open directory (without `.` and `..`).
pub(crate) fn read_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    // Re-open "." so the caller's fd offset is untouched and fdopendir can own the copy.
    let fd = cvt(unsafe {
        // SAFETY: valid fd, NUL-terminated literal.
        libc::openat(
            dir.as_raw_fd(),
            c".".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: `fd` is a fresh directory fd whose ownership passes to the DIR stream, which
    // we close on every path; entries are copied before the next readdir.
    unsafe {
        let d = libc::fdopendir(fd);
        if d.is_null() {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        let mut out = Vec::new();
        loop {
            let ent = libc::readdir(d);
            if ent.is_null() {
                break;
            }
            let name = CStr::from_ptr((*ent).d_name.as_ptr());
            if name.to_bytes() != b"." && name.to_bytes() != b".." {
                out.push(name.to_owned());
            }
        }
        libc::closedir(d);
        Ok(out)
    }
}

/// `fstat(2)`.
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    lstatat(fd, c"")
}

/// Takes an exclusive `flock`, waiting for it; released when the fd closes.
pub(crate) fn lock(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: valid fd.
    retry(|| cvt(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) })).map(drop)
}

/// Takes an exclusive `flock` without waiting; `Ok(false)` when another holder has it.
pub(crate) fn try_lock(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: valid fd.
    match cvt(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}

/// While alive, the calling *thread* accesses files as `uid`/`gid` (filesystem ids and
/// supplementary groups), so the kernel applies the sandbox user's permissions and new files
/// belong to it. A no-op when the process is not root. Dropping it restores root.
#[derive(Debug)]
pub(crate) struct FsCredsGuard {
    active: bool,
    groups: Vec<libc::gid_t>,
}

impl FsCredsGuard {
    /// Switches the calling thread's filesystem credentials.
    pub(crate) fn switch(uid: u32, gid: u32) -> io::Result<Self> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Self {
                active: false,
                groups: Vec::new(),
            });
        }
        let mut saved = vec![0 as libc::gid_t; 256];
        // SAFETY: `saved` has room for 256 gids.
        let n = cvt(unsafe { libc::getgroups(saved.len() as libc::c_int, saved.as_mut_ptr()) })?;
        saved.truncate(n as usize);
        let groups = [gid];
        // SAFETY: raw syscalls (not the glibc wrappers, which broadcast to all threads)
        // change only this thread's credentials; `groups` outlives the call.
        unsafe {
            cvt_long(libc::syscall(libc::SYS_setgroups, 1, groups.as_ptr()))?;
            libc::syscall(libc::SYS_setfsgid, gid);
            libc::syscall(libc::SYS_setfsuid, uid);
        }
        Ok(Self {
            active: true,
            groups: saved,
        })
    }
}

impl Drop for FsCredsGuard {
    fn drop(&mut self) {
        if self.active {
            // SAFETY: as in `switch`; restores this thread's root filesystem ids and groups.
            unsafe {
                libc::syscall(libc::SYS_setfsuid, 0);
                libc::syscall(libc::SYS_setfsgid, 0);
                libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr());
            }
        }
    }
}

/// The Landlock ABI version of the running kernel, 0 when Landlock is unavailable.
pub(crate) fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: the version probe takes a NULL attr and size 0 and only returns an integer.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 { 0 } else { v as i32 }
}
