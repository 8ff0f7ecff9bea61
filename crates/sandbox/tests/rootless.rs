//! The rootless code path (user namespace, no cgroups, rlimits), exercised by re-running
//! this test binary as an unprivileged user.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use agbcloud_sandbox::{CommandSpec, Engine, EngineConfig, Image, Limits};

/// Not a test on its own: run by `unprivileged_user_gets_a_working_sandbox` as uid 65534.
#[tokio::test]
async fn rootless_helper() {
    let Some(state) = std::env::var_os("AGB_TEST_ROOTLESS_STATE") else {
        return;
    };
    let engine = Engine::with_config(EngineConfig {
        state_dir: state.into(),
        ..EngineConfig::default()
    })
    .unwrap();
    assert!(!engine.has_cgroups());
    let limits = Limits {
        pids: Some(64),
        ..Limits::default()
    };
    let sb = engine.create(&Image::standard(), &limits).await.unwrap();
    let out = sb
        .exec(CommandSpec::new("id -u; echo hi > /tmp/x; cat /tmp/x; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; touch /usr/x"))
        .await
        .unwrap();
    let s = out.stdout_str();
    assert!(s.starts_with("1000\nhi\n"), "{out:?}");
    assert!(
        s.contains("NoNewPrivs:\t1") && s.contains("Seccomp:\t2"),
        "{s}"
    );
    assert_ne!(out.exit_code(), 0, "/usr was writable");
    // Without cgroups, RLIMIT_DATA stands in for the memory limit.
    let out = sb
        .exec(CommandSpec::new("/usr/bin/python3 -c 'bytearray(1 << 30)'"))
        .await
        .unwrap();
    assert!(out.stderr_str().contains("MemoryError"), "{out:?}");
    let files = sb.files().unwrap();
    files.write("/home/user/f", b"from api").unwrap();
    assert_eq!(files.read("/tmp/x", 0, None).unwrap(), b"hi\n");
    let out = sb.exec(CommandSpec::new("cat /home/user/f")).await.unwrap();
    assert_eq!(out.stdout, b"from api");
    sb.destroy().await.unwrap();
    println!("ROOTLESS OK");
}

#[test]
fn unprivileged_user_gets_a_working_sandbox() {
    if std::env::var_os("AGB_TEST_ROOTLESS_STATE").is_some() || agbcloud_sandbox_is_unprivileged() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(state.path(), Some(65534), Some(65534)).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "rootless_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env("AGB_TEST_ROOTLESS_STATE", state.path())
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ROOTLESS OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn agbcloud_sandbox_is_unprivileged() -> bool {
    // The effective uid is the second field of `Uid:` in /proc/self/status.
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Uid:")
                .and_then(|r| r.split_whitespace().nth(1))
                .map(|u| u != "0")
        })
        .unwrap_or(true)
}
