//! What a sandboxed command must not reach: host files, host network, host processes,
//! system directories, root privileges, namespaces.

mod common;

use common::{engine, sandbox, sh};

#[tokio::test]
async fn host_files_are_invisible() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let secret = format!("/root/agb-secret-{}", std::process::id());
    std::fs::write(&secret, "top secret").unwrap();
    let checkout = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let out = sh(
        &sb,
        &format!("cat {secret}; cat {checkout}; ls /root /work /proc/1/root/root 2>&1; echo done"),
    )
    .await;
    std::fs::remove_file(&secret).ok();
    let all = format!("{}{}", out.stdout_str(), out.stderr_str());
    assert!(!all.contains("top secret"), "{all}");
    assert!(!all.contains("[package]"), "{all}");
    assert!(out.stdout_str().ends_with("done\n"));
    // Only the allow-listed directories exist at the top level.
    let ls = sh(&sb, "ls -A /").await.stdout_str();
    let top: Vec<&str> = ls.lines().collect();
    for forbidden in ["root", "work", "run", "mnt", "var", "sys", "boot"] {
        assert!(!top.contains(&forbidden), "/{forbidden} visible: {top:?}");
    }
}

#[tokio::test]
async fn host_loopback_is_unreachable_but_own_loopback_works() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let engine = engine();
    let sb = sandbox(&engine).await;
    let probe = format!(
        "/usr/bin/python3 -c \"import socket\ntry:\n  socket.create_connection(('127.0.0.1', {port}), timeout=2); print('CONNECTED')\nexcept OSError as e: print('refused', e)\""
    );
    let out = sh(&sb, &probe).await;
    assert!(out.stdout_str().starts_with("refused"), "{out:?}");
    assert!(
        listener.accept().is_err(),
        "the host listener saw a connection"
    );
    // Interfaces: only lo, and it is up: a server inside is reachable from inside.
    let ifs = sh(&sb, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
        .await
        .stdout_str();
    assert_eq!(ifs.trim(), "lo");
    let inside = "/usr/bin/python3 -c \"import socket\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\nc=socket.create_connection(s.getsockname()); print('ok')\"";
    assert_eq!(sh(&sb, inside).await.stdout_str().trim(), "ok");
}

#[tokio::test]
async fn host_processes_are_invisible() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = sh(
        &sb,
        "ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/1/cmdline | tr '\\0' ' '",
    )
    .await;
    let s = out.stdout_str();
    let mut lines = s.lines();
    let count: usize = lines.next().unwrap().trim().parse().unwrap();
    // init, sh, ls, grep and wc: nothing of the host.
    assert!(count <= 5, "saw {count} processes: {s}");
    assert!(lines.next().unwrap().contains("agb-sandbox"), "{s}");
}

#[tokio::test]
async fn system_dirs_are_read_only_and_scratch_is_writable() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    for target in [
        "/usr/agb-x",
        "/etc/agb-x",
        "/opt/agb-x",
        "/agb-x",
        "/usr/bin/agb-x",
    ] {
        let out = sh(&sb, &format!("echo x > {target}")).await;
        assert_ne!(out.exit_code(), 0, "{target} was writable");
    }
    let out = sh(&sb, "echo a > /tmp/a && echo b > /home/user/b && echo c > /dev/shm/c && cat /tmp/a /home/user/b /dev/shm/c").await;
    assert_eq!(out.stdout_str(), "a\nb\nc\n", "{out:?}");
    assert!(!std::path::Path::new("/usr/agb-x").exists());
}

#[tokio::test]
async fn commands_never_run_as_root_and_have_no_privileges() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = sh(
        &sb,
        "id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status",
    )
    .await;
    let s = out.stdout_str();
    let mut lines = s.lines();
    let uid: u32 = lines.next().unwrap().parse().unwrap();
    assert_ne!(uid, 0);
    assert_eq!(uid, sb.uid());
    assert!(s.contains("CapEff:\t0000000000000000"), "{s}");
    assert!(s.contains("CapBnd:\t0000000000000000"), "{s}");
    assert!(s.contains("NoNewPrivs:\t1"), "{s}");
    assert!(s.contains("Seccomp:\t2"), "{s}");
}

#[tokio::test]
async fn seccomp_refuses_namespaces_and_mounts_but_threads_work() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    for cmd in ["unshare -U true", "unshare -m true", "unshare -n true"] {
        let out = sh(&sb, cmd).await;
        assert_ne!(out.exit_code(), 0, "{cmd} succeeded");
    }
    let py = "/usr/bin/python3 -c \"import threading, subprocess\nt=threading.Thread(target=print, args=('thread',)); t.start(); t.join()\nprint(subprocess.run(['echo','sub'],capture_output=True).stdout.decode().strip())\"";
    assert_eq!(sh(&sb, py).await.stdout_str(), "thread\nsub\n");
}

#[tokio::test]
async fn environment_is_built_from_scratch() {
    // The test process's own environment (CARGO_*, pyenv PATH) must not leak in.
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = sh(&sb, "env | sort; command -v python3; echo $HOME; hostname")
        .await
        .stdout_str();
    assert!(!out.contains("CARGO"), "{out}");
    assert!(!out.contains("pyenv"), "{out}");
    assert!(out.contains("HOME=/home/user"));
    assert!(out.contains("/usr/bin/python3"));
    assert!(out.contains("sandbox"));
}

#[tokio::test]
async fn exec_options_cwd_env_stdin_exit_and_truncation() {
    use agbcloud_sandbox::{CommandSpec, ExitStatus};
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = sb
        .exec(
            CommandSpec::new("pwd; echo $FOO; cat; echo err >&2; exit 3")
                .cwd("/tmp")
                .env("FOO", "bar")
                .stdin("in"),
        )
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "/tmp\nbar\nin");
    assert_eq!(out.stderr_str(), "err\n");
    assert_eq!(out.status, ExitStatus::Code(3));
    let out = sb.exec(CommandSpec::new("kill -TERM $$")).await.unwrap();
    assert_eq!(out.status, ExitStatus::Signal(libc::SIGTERM));
    let out = sb
        .exec(CommandSpec::new("head -c 100000 /dev/zero").output_limit(1000))
        .await
        .unwrap();
    assert!(out.stdout_truncated);
    assert!(
        out.stdout_str()
            .contains("[output truncated: 1000 of 100000 bytes shown]")
    );
    // Streaming delivers the same bytes as they come.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = sb
        .exec_streaming(CommandSpec::new("echo one; sleep 0.1; echo two >&2"), tx)
        .await
        .unwrap();
    let mut chunks = Vec::new();
    while let Ok(c) = rx.try_recv() {
        chunks.push(c);
    }
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert_eq!(out.stdout_str(), "one\n");
}

#[tokio::test]
async fn background_process_does_not_hang_the_command() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sh(&sb, "sleep 100 & nohup sleep 100 & echo started"),
    )
    .await
    .expect("exec waited for the pipes of a background process");
    assert_eq!(out.stdout_str(), "started\n");
    assert!(out.success());
}

#[tokio::test]
async fn the_sandbox_user_has_a_name_and_a_home() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let out = sh(
        &sb,
        "whoami; echo ~; getent passwd user | cut -d: -f3; cd && pwd",
    )
    .await;
    assert_eq!(
        out.stdout_str(),
        format!("user\n/home/user\n{}\n/home/user\n", sb.uid())
    );
    // The host's /etc/passwd is untouched.
    assert!(
        !std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .contains(&format!(":{}:", sb.uid()))
    );
}

#[cfg(target_arch = "x86_64")]
#[tokio::test]
async fn x32_syscall_numbers_are_refused() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    // getpid through the x32 numbering: EPERM from our filter (ENOSYS would mean unfiltered).
    let py = "/usr/bin/python3 -c \"import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.syscall(0x40000000 | 39), ctypes.get_errno())\"";
    assert_eq!(sh(&sb, py).await.stdout_str(), "-1 1\n");
}
