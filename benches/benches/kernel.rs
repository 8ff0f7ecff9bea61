//! Python kernel latency on the host launcher, beside a floor measured in the same run.
//!
//! * `kernel/python_print1_warm`: `print(1)` round trip on a warm kernel (target ≤ 0.3 ms p50);
//! * `floor/python_pipe_roundtrip`: one framed request/reply to a warm `python3` that echoes;
//! * `kernel/python_cold_first_result`: start a kernel and get the first `print(1)` back.
//!
//! Also prints the RSS and PSS of an idle Python kernel (target ≤ 8 MiB).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::host::HostLauncher;
use agbcloud_sandbox::kernel::frame::{FrameReader, encode};
use agbcloud_sandbox::kernel::{KernelConfig, KernelSet, Language};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

const PYTHON: &str = "/usr/bin/python3";

const ECHO: &str = r#"
import os, struct
i, o = 0, 1
def read(n):
    b = b""
    while len(b) < n:
        c = os.read(i, n - len(b))
        if not c: raise SystemExit
        b += c
    return b
while True:
    h = read(4)
    os.write(o, h + read(struct.unpack(">I", h)[0]))
"#;

fn config() -> KernelConfig {
    KernelConfig::default().with_home(std::env::temp_dir())
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn warm(c: &mut Criterion) {
    let rt = runtime();
    let kernels = KernelSet::new(Arc::new(HostLauncher::new()), config());
    let timeout = Duration::from_secs(10);
    rt.block_on(async {
        let run = kernels
            .execute("python", "print(1)", timeout, None)
            .await
            .expect("kernel");
        assert_eq!(run.stdout_text(), "1\n");
    });
    memory(&rt, &kernels, "idle, after one cell");
    c.benchmark_group("kernel")
        .bench_function("python_print1_warm", |b| {
            b.iter(|| {
                rt.block_on(kernels.execute("python", "print(1)", timeout, None))
                    .expect("run")
            })
        });
    memory(&rt, &kernels, "after the warm benchmark");
}

fn memory(rt: &Runtime, kernels: &KernelSet, when: &str) {
    // Other idle kernels share the interpreter's file pages, as many sessions do; PSS then
    // splits them between all of them.
    let others: Vec<KernelSet> = (0..7)
        .map(|_| KernelSet::new(Arc::new(HostLauncher::new()), config()))
        .collect();
    let pid = rt.block_on(async {
        for other in &others {
            other.start(Language::Python).await.expect("another kernel");
        }
        kernels.kernel(Language::Python).lock().await.pid()
    });
    let Some(pid) = pid else { return };
    let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return;
    };
    let field = |name: &str| {
        rollup
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    println!(
        "kernel/python_memory ({when}): RSS {:.1} MiB, PSS {:.1} MiB among 8 idle kernels, \
         private dirty {:.1} MiB (target <= 8 MiB)",
        field("Rss:"),
        field("Pss:"),
        field("Private_Dirty:")
    );
}

fn floor(c: &mut Criterion) {
    let rt = runtime();
    let mut child = std::process::Command::new(PYTHON)
        .args(["-c", ECHO])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let (stdin, stdout) = (
        child.stdin.take().expect("stdin"),
        child.stdout.take().expect("stdout"),
    );
    let (mut tx, mut rx) = rt.block_on(async {
        let tx = tokio::net::unix::pipe::Sender::from_owned_fd(stdin.into()).expect("pipe");
        let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(stdout.into()).expect("pipe");
        (tx, FrameReader::new(rx))
    });
    let request = encode(br#"{"type":"execute","code":"print(1)"}"#).expect("frame");
    c.benchmark_group("floor")
        .bench_function("python_pipe_roundtrip", |b| {
            b.iter(|| {
                rt.block_on(async {
                    tx.write_all(&request).await.expect("write");
                    rx.next().await.expect("read").expect("frame")
                })
            })
        });
    drop(tx);
    let _ = child.kill();
    let _ = child.wait();
}

fn cold(c: &mut Criterion) {
    let rt = runtime();
    let launcher = Arc::new(HostLauncher::new());
    let mut group = c.benchmark_group("kernel");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("python_cold_first_result", |b| {
        b.iter(|| {
            let kernels = KernelSet::new(launcher.clone(), config());
            rt.block_on(kernels.execute("python", "print(1)", Duration::from_secs(10), None))
                .expect("run")
        })
    });
    group.finish();
}

criterion_group!(benches, floor, warm, cold);
criterion_main!(benches);
