//! The `Launch` seam: long-lived processes in a sandbox with piped stdio.

mod common;

use std::io::{Read, Write};

use agbcloud_sandbox::base_env;
use agbcloud_sandbox::launch::{Launch, ProcessSpec};
use common::{engine, sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_pipes_and_kill() {
    let engine = engine();
    let sb = sandbox(&engine).await;
    let spec = ProcessSpec {
        argv: vec!["cat".into()],
        env: base_env(),
        cwd: "/tmp".into(),
    };
    let p = sb.launch(&spec).unwrap();
    let mut stdin = std::fs::File::from(p.stdin);
    let mut stdout = std::fs::File::from(p.stdout);
    stdin.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    stdout.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
    p.control.kill().unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    let err = sb.launch(&ProcessSpec {
        argv: vec!["/nonexistent".into()],
        env: base_env(),
        cwd: "/".into(),
    });
    assert!(err.is_err());
    let spec = ProcessSpec {
        argv: vec![
            "sh".into(),
            "-c".into(),
            "trap 'echo int; exit 0' INT; echo ready; while :; do sleep 0.05; done".into(),
        ],
        env: base_env(),
        cwd: "/".into(),
    };
    let p = sb.launch(&spec).unwrap();
    let mut out = std::fs::File::from(p.stdout);
    let mut buf = [0u8; 6];
    out.read_exact(&mut buf).unwrap();
    p.control.interrupt().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "int\n");
}
