//! Limits end runaway commands with a clear error while other sandboxes keep working.

mod common;

use std::time::Duration;

use agbcloud_sandbox::{CommandSpec, Limits};
use common::{engine, sandbox, sandbox_with, sh};

#[tokio::test]
async fn fork_bomb_hits_the_pids_limit() {
    let engine = engine();
    assert!(engine.has_cgroups(), "tests run as root with cgroups");
    let limits = Limits {
        pids: Some(64),
        ..Limits::default()
    };
    let bomb = sandbox_with(&engine, limits).await;
    let other = sandbox(&engine).await;
    let run =
        bomb.exec(CommandSpec::new("f() { f | f & }; f; sleep 2").timeout(Duration::from_secs(5)));
    let (out, ok) = tokio::join!(run, sh(&other, "echo alive"));
    let out = out.unwrap();
    assert!(out.pids_limited, "{out:?}");
    assert!(out.limit_error().is_some());
    assert_eq!(ok.stdout_str(), "alive\n");
    bomb.destroy().await.unwrap();
    assert_eq!(sh(&other, "echo still").await.stdout_str(), "still\n");
}

#[tokio::test]
async fn big_allocation_is_oom_killed() {
    let engine = engine();
    let limits = Limits {
        memory: Some(256 << 20),
        ..Limits::default()
    };
    let sb = sandbox_with(&engine, limits).await;
    let other = sandbox(&engine).await;
    let out = sb
        .exec(
            CommandSpec::new("/usr/bin/python3 -c 'b = bytearray(1 << 30); print(len(b))'")
                .timeout(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert!(out.oom_killed, "{out:?}");
    assert!(!out.success());
    assert!(out.limit_error().unwrap().contains("memory"));
    assert_eq!(sh(&other, "echo alive").await.stdout_str(), "alive\n");
    // The sandbox itself survives its OOM.
    assert_eq!(sh(&sb, "echo after").await.stdout_str(), "after\n");
}

#[tokio::test]
async fn infinite_loop_times_out() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let other = sandbox(&engine).await;
    let out = sb
        .exec(CommandSpec::new("while :; do :; done").timeout(Duration::from_millis(500)))
        .await
        .unwrap();
    assert!(out.timed_out);
    assert!(out.limit_error().unwrap().contains("timed out"));
    assert_eq!(sh(&other, "echo alive").await.stdout_str(), "alive\n");
}

#[tokio::test]
async fn writable_layer_is_size_capped() {
    let engine = engine();
    let limits = Limits {
        disk: 16 << 20,
        ..Limits::default()
    };
    let sb = sandbox_with(&engine, limits).await;
    let out = sh(
        &sb,
        "dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1; echo rc=$?",
    )
    .await;
    assert!(out.stdout_str().contains("No space left"), "{out:?}");
    let out = sh(&sb, "df -k /tmp | tail -1").await.stdout_str();
    assert!(out.contains("16384"), "{out}");
}

#[tokio::test]
async fn lifetime_expiry_destroys_the_sandbox() {
    let engine = engine();
    let limits = Limits {
        lifetime: Some(Duration::from_secs(1)),
        ..Limits::default()
    };
    let sb = sandbox_with(&engine, limits).await;
    let init = sb.init_pid();
    assert!(sh(&sb, "echo hi").await.success());
    assert!(common::eventually(|| !common::alive(init)).await);
    let err = sb.exec(CommandSpec::new("echo hi")).await.unwrap_err();
    assert!(
        matches!(err, agbcloud_sandbox::SandboxError::Gone(_)),
        "{err}"
    );
}

#[tokio::test]
async fn limits_are_written_to_the_cgroups() {
    let engine = engine();
    let limits = Limits {
        memory: Some(200 << 20),
        pids: Some(77),
        cpu: Some(0.5),
        ..Limits::default()
    };
    let sb = sandbox_with(&engine, limits).await;
    let read = |ctrl: &str, file: &str| {
        // v1 hierarchies on this host; the memory one sits under the test's own cgroup.
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let base = own
            .lines()
            .find_map(|l| {
                let mut it = l.splitn(3, ':');
                let (_, c, p) = (it.next()?, it.next()?, it.next()?);
                c.split(',').any(|x| x == ctrl).then(|| p.to_owned())
            })
            .unwrap();
        let path = format!(
            "/sys/fs/cgroup/{ctrl}{}/agbcloud/{}/{}/{file}",
            base.trim_end_matches('/'),
            engine.id(),
            sb.id()
        );
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .trim()
            .to_owned()
    };
    assert_eq!(
        read("memory", "memory.limit_in_bytes"),
        (200u64 << 20).to_string()
    );
    assert_eq!(read("pids", "pids.max"), "77");
    assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
    // The sandbox's own processes are members.
    let procs = read("pids", "cgroup.procs");
    assert!(
        procs.lines().any(|p| p == sb.init_pid().to_string()),
        "{procs}"
    );
}
