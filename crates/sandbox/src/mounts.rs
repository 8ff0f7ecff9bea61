//! The sandbox's filesystem, built by the init inside its private mount namespace:
//! a small tmpfs root, an overlay per allow-listed host directory (private upper layer on a
//! size-capped scratch tmpfs), fresh `/proc`, a minimal `/dev`, `/tmp` and `/home/user`;
//! then `pivot_root` and the old root detached.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::proto::InitConfig;
use crate::sys::fs::{lchown, mknod_char, mount, pivot_root, umount};

const NOSUID: libc::c_ulong = libc::MS_NOSUID;
const NODEV: libc::c_ulong = libc::MS_NODEV;
const NOEXEC: libc::c_ulong = libc::MS_NOEXEC;

/// Device nodes bound from the host into `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

type Step<T> = Result<T, String>;

fn ctx<T>(what: &str, path: &Path, r: std::io::Result<T>) -> Step<T> {
    r.map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// Mounts a tmpfs labelled `label` on `dir` with `options` (size, inodes, mode).
fn tmpfs(label: &str, dir: &Path, flags: libc::c_ulong, options: &str) -> Step<()> {
    ctx(
        &format!("mount {label} tmpfs on"),
        dir,
        mount(Some(label), dir, Some("tmpfs"), flags, Some(options)),
    )
}

fn mkdir(path: &Path, mode: u32) -> Step<()> {
    ctx(
        "mkdir",
        path,
        fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(path),
    )?;
    ctx(
        "chmod",
        path,
        fs::set_permissions(path, fs::Permissions::from_mode(mode)),
    )
}

/// Builds the root and switches into it. `owner` is the uid/gid that owns `/tmp` and `$HOME`.
pub(crate) fn build(cfg: &InitConfig, owner: (u32, u32)) -> Step<()> {
    let root_path = Path::new("/");
    ctx(
        "make private",
        root_path,
        mount(None, root_path, None, libc::MS_REC | libc::MS_PRIVATE, None),
    )?;

    let stage = PathBuf::from(&cfg.stage);
    let size = cfg.disk_bytes.max(1 << 20);
    tmpfs(
        "agb-scratch",
        &stage,
        NOSUID | NODEV,
        &format!("size={size},mode=0755"),
    )?;
    let root = stage.join("root");
    mkdir(&root, 0o755)?;
    tmpfs(
        "agb-root",
        &root,
        NOSUID | NODEV,
        "size=1m,nr_inodes=4096,mode=0755",
    )?;

    let userxattr = if cfg.rootless { ",userxattr" } else { "" };
    for (i, lower) in cfg.lowers.iter().enumerate() {
        let host = Path::new(lower);
        if !host.is_dir() {
            continue;
        }
        let up = stage.join(format!("up/{i}"));
        let wk = stage.join(format!("wk/{i}"));
        mkdir(&up, 0o755)?;
        mkdir(&wk, 0o755)?;
        let target = root.join(lower.trim_start_matches('/'));
        mkdir(&target, 0o755)?;
        let opts = format!(
            "lowerdir={},upperdir={},workdir={}{userxattr}",
            lower,
            up.display(),
            wk.display()
        );
        ctx(
            "mount overlay on",
            &target,
            mount(
                Some("overlay"),
                &target,
                Some("overlay"),
                NOSUID | NODEV,
                Some(&opts),
            ),
        )?;
    }
    for (link, target) in &cfg.symlinks {
        let l = root.join(link);
        ctx("symlink", &l, std::os::unix::fs::symlink(target, &l))?;
    }

    if !cfg.rootless && cfg.lowers.iter().any(|l| l == "/etc") {
        add_user(&root.join("etc"), owner)?;
    }

    // Writable places, all on the scratch tmpfs (one size cap), owned by the sandbox user.
    for (dir, at, mode) in [
        ("tmp", "tmp", 0o1777),
        ("home", "home/user", 0o750),
        ("shm", "dev/shm", 0o1777),
    ] {
        let src = stage.join(dir);
        mkdir(&src, mode)?;
        ctx("chown", &src, lchown(&src, owner.0, owner.1))?;
        let dst = root.join(at);
        if at != "dev/shm" {
            mkdir(&dst, 0o755)?;
            bind(&src, &dst, NOSUID | NODEV)?;
        }
    }

    // /dev: a tiny tmpfs with the usual device nodes bound from the host.
    let dev = root.join("dev");
    mkdir(&dev, 0o755)?;
    tmpfs(
        "agb-dev",
        &dev,
        NOSUID | NOEXEC,
        "size=64k,nr_inodes=64,mode=0755",
    )?;
    for d in DEVICES {
        let node = dev.join(d);
        let host = Path::new("/dev").join(d);
        if cfg.rootless {
            // No mknod in a user namespace: bind the host's node instead.
            ctx("create", &node, fs::File::create(&node))?;
            bind(&host, &node, NOSUID | NOEXEC)?;
        } else {
            let rdev = ctx("stat", &host, fs::metadata(&host))?.rdev();
            ctx("mknod", &node, mknod_char(&node, 0o666, rdev))?;
            ctx(
                "chmod",
                &node,
                fs::set_permissions(&node, fs::Permissions::from_mode(0o666)),
            )?;
        }
    }
    let shm = dev.join("shm");
    mkdir(&shm, 0o1777)?;
    bind(&stage.join("shm"), &shm, NOSUID | NODEV | NOEXEC)?;
    let pts = dev.join("pts");
    mkdir(&pts, 0o755)?;
    ctx(
        "mount devpts on",
        &pts,
        mount(
            Some("devpts"),
            &pts,
            Some("devpts"),
            NOSUID | NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=0620"),
        ),
    )?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let l = dev.join(link);
        ctx("symlink", &l, std::os::unix::fs::symlink(target, &l))?;
    }

    // /proc of the new pid namespace, mounted before the old root goes away.
    let proc_dir = root.join("proc");
    mkdir(&proc_dir, 0o555)?;
    ctx(
        "mount proc on",
        &proc_dir,
        mount(
            Some("proc"),
            &proc_dir,
            Some("proc"),
            NOSUID | NODEV | NOEXEC,
            None,
        ),
    )?;

    // Switch roots: pivot onto ourselves, then detach the old root stacked on top.
    ctx(
        "chdir",
        &root,
        crate::sys::proc::chdir(c_path(&root)?.as_c_str()),
    )?;
    ctx(
        "pivot_root",
        &root,
        pivot_root(Path::new("."), Path::new(".")),
    )?;
    ctx(
        "detach old root",
        root_path,
        umount(Path::new("."), libc::MNT_DETACH),
    )?;
    ctx("chdir", root_path, crate::sys::proc::chdir(c"/"))?;
    ctx(
        "remount root read-only",
        root_path,
        mount(
            None,
            root_path,
            None,
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | NOSUID | NODEV,
            None,
        ),
    )?;
    Ok(())
}

/// Gives the sandbox user a name (`user`, home `/home/user`) in the overlay's `/etc/passwd`
/// and `/etc/group` (a copy-up into the private upper layer), so `whoami`, `git` and `ssh`
/// find it. Needs real root: copy-up of host-owned files is refused in a user namespace.
fn add_user(etc: &Path, (uid, gid): (u32, u32)) -> Step<()> {
    for (file, line) in [
        (
            "passwd",
            format!("user:x:{uid}:{gid}:Sandbox User:/home/user:/bin/sh\n"),
        ),
        ("group", format!("user:x:{gid}:\n")),
    ] {
        let path = etc.join(file);
        let Ok(mut text) = fs::read_to_string(&path) else {
            continue;
        };
        if text.lines().any(|l| l.starts_with("user:")) {
            continue;
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        ctx("write", &path, fs::write(&path, text))?;
    }
    Ok(())
}

fn bind(src: &Path, dst: &Path, flags: libc::c_ulong) -> Step<()> {
    ctx(
        "bind onto",
        dst,
        mount(
            Some(&src.to_string_lossy()),
            dst,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
        ),
    )?;
    ctx(
        "remount",
        dst,
        mount(
            None,
            dst,
            None,
            libc::MS_REMOUNT | libc::MS_BIND | flags,
            None,
        ),
    )
}

fn c_path(p: &Path) -> Step<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| format!("path with NUL: {}", p.display()))
}
