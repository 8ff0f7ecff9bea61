//! Destroy, drop and a SIGKILLed parent leave no process, cgroup or state behind.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::{alive, engine, eventually, sandbox, sh};

const SPAWN_ALL: &str =
    "sleep 1000 & (sleep 1000 &) ; setsid sleep 1000 & nohup sleep 1000 >/dev/null 2>&1 & echo ok";

#[tokio::test]
async fn destroy_kills_every_process_and_removes_cgroups() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    assert_eq!(sh(&sb, SPAWN_ALL).await.stdout_str(), "ok\n");
    let pids = sb.pids();
    assert!(pids.len() >= 5, "{pids:?}");
    let cg = format!(
        "/sys/fs/cgroup/unified/agbcloud/{}/{}",
        engine.id(),
        sb.id()
    );
    assert!(std::path::Path::new(&cg).exists());
    sb.destroy().await.unwrap();
    for p in &pids {
        assert!(!alive(*p), "pid {p} survived destroy");
    }
    assert!(!std::path::Path::new(&cg).exists(), "{cg} left behind");
}

#[tokio::test]
async fn dropping_the_last_handle_kills_the_sandbox() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    sh(&sb, SPAWN_ALL).await;
    let pids = sb.pids();
    drop(sb);
    assert!(
        eventually(|| pids.iter().all(|p| !alive(*p))).await,
        "{pids:?}"
    );
}

#[tokio::test]
async fn dropping_the_engine_cleans_its_cgroups_and_state() {
    let engine = engine();
    let id = engine.id().to_owned();
    let sb = sandbox(&engine).await;
    sh(&sb, SPAWN_ALL).await;
    let pids = sb.pids();
    drop(sb);
    drop(engine);
    for p in &pids {
        assert!(!alive(*p), "pid {p} survived the engine");
    }
    assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/unified/agbcloud/{id}")).exists());
    assert!(!std::path::Path::new(&format!("/run/agbcloud/{id}")).exists());
}

/// Not a test on its own: run by `parent_sigkill_leaves_nothing` as a helper process
/// (selected by an environment variable), it creates a sandbox, prints its pids and waits
/// to be killed.
#[tokio::test]
async fn helper_create_and_wait() {
    if std::env::var_os("AGB_TEST_HELPER").is_none() {
        return;
    }
    let engine = engine();
    let sb = sandbox(&engine).await;
    sh(&sb, SPAWN_ALL).await;
    let pids: Vec<String> = sb.pids().iter().map(|p| p.to_string()).collect();
    println!("PIDS {} ENGINE {}", pids.join(","), engine.id());
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
}

#[tokio::test]
async fn parent_sigkill_leaves_nothing() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_create_and_wait",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("AGB_TEST_HELPER", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    // Kills the helper even when an assertion below fails.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
    let mut child = Reap(child);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "helper exited early"
        );
        if line.contains("PIDS ") {
            break;
        }
    }
    let mut parts = line[line.find("PIDS ").unwrap()..].split_whitespace();
    parts.next();
    let pids: Vec<i32> = parts
        .next()
        .unwrap()
        .split(',')
        .map(|p| p.parse().unwrap())
        .collect();
    parts.next();
    let dead_engine = parts.next().unwrap().to_owned();
    assert!(pids.len() >= 5 && pids.iter().all(|p| alive(*p)));
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    assert!(
        eventually(|| pids.iter().all(|p| !alive(*p))).await,
        "sandbox processes outlived their parent"
    );
    // The next engine reconciles the dead one's leftovers.
    let cg = format!("/sys/fs/cgroup/unified/agbcloud/{dead_engine}");
    let _engine = engine();
    assert!(!std::path::Path::new(&cg).exists(), "{cg} not reconciled");
    assert!(!std::path::Path::new(&format!("/run/agbcloud/{dead_engine}")).exists());
}

#[tokio::test]
async fn cancelled_exec_kills_its_process_group() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        sh(&sb, "sleep 100; echo never"),
    )
    .await;
    assert!(cancelled.is_err());
    let mut left = String::new();
    for _ in 0..100 {
        left = sh(&sb, "cat /proc/[0-9]*/comm | grep -c sleep")
            .await
            .stdout_str();
        if left.trim() == "0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left.trim(), "0", "the cancelled command's sleep survived");
}
