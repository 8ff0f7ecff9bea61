//! Our SDK against the official Python SDK (`agbcloud-sdk` 0.12.0): the same
//! `code.run("print(1)", "python")` on a warm session, against the same `agb serve`-style
//! server on loopback, in the same run.
//!
//! Bench ids (wall time per call, client and server together):
//! - `sdk/rust_run`: `session.code().run("print(1)", Language::Python)` with our client on a
//!   current-thread runtime; the server runs on its own threads in this process.
//! - `sdk/python_official_run`: the official SDK's `session.code.run("print(1)", "python")`,
//!   driven by a small Python script run with the conformance venv
//!   (`target/conformance-venv/bin/python`; this half is skipped, with the reason printed,
//!   when the venv is absent). The SDK's logging is set to WARNING so that its per-call INFO
//!   logs do not inflate its time.
//!
//! - `sdk/rust_run_client_cpu`, `sdk/python_official_run_client_cpu`: the same calls, but the
//!   time measured is the client's CPU time only (the server excluded): thread CPU time of the
//!   bench thread for ours, process CPU time of the Python interpreter for the official SDK.
//!   The averages over the wall-time runs are also written to
//!   `target/bench/metrics/sdk_*_client_cpu.json`.

use std::future::IntoFuture as _;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use agbcloud::prelude::*;
use agbcloud::server::{Server, ServerConfig};
use criterion::{Criterion, criterion_group, criterion_main};

const PYTHON_DRIVER: &str = r#"
import os, sys, time
from agb import AGB
from agb.config import Config
from agb.session_params import CreateSessionParams

client = AGB(api_key="bench", cfg=Config(endpoint=os.environ["BENCH_ENDPOINT"], timeout_ms=60000))
result = client.create(CreateSessionParams(image_id="agb-code-space-1"))
session = result.session
assert session is not None, result.error_message
for _ in range(20):
    assert session.code.run("print(1)", "python").success
print("ready", flush=True)
for line in sys.stdin:
    line = line.strip()
    if line == "quit":
        break
    n = int(line)
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(n):
        r = session.code.run("print(1)", "python")
    wall, cpu = time.perf_counter_ns() - wall, time.process_time_ns() - cpu
    assert r.success, r.error_message
    print(wall, cpu, flush=True)
client.delete(session)
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Starts the AGB server (as `agb serve --dev` does) on its own threads; returns its address.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let server = Server::bind(ServerConfig::dev(SocketAddr::from(([127, 0, 0, 1], 0))))
                .await
                .expect("server binds");
            tx.send(server.local_addr()).expect("send address");
            let _running = server.spawn();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("server address")
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

fn write_metric(name: &str, value: f64, unit: &str) {
    let dir = target_dir().join("bench").join("metrics");
    if std::fs::create_dir_all(&dir).is_ok() {
        let json = format!(r#"{{"name": "{name}", "value": {value}, "unit": "{unit}"}}"#);
        std::fs::write(dir.join(format!("{}.json", name.replace('/', "_"))), json).ok();
    }
}

struct PythonDriver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PythonDriver {
    fn start(python: &Path, endpoint: &str) -> Result<Self, String> {
        let script = target_dir().join("bench").join("sdk_python_run.py");
        std::fs::create_dir_all(script.parent().unwrap_or(Path::new(".")))
            .map_err(|e| e.to_string())?;
        std::fs::write(&script, PYTHON_DRIVER).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(script.with_extension("log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(python)
            .arg(&script)
            .env("BENCH_ENDPOINT", endpoint)
            .env("AGB_LOG_LEVEL", "WARNING")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            return Err(format!(
                "the Python driver did not start (see {}): {line:?}",
                script.with_extension("log").display()
            ));
        }
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// Runs `n` calls; returns (wall, client CPU).
    fn run(&mut self, n: u64) -> (Duration, Duration) {
        writeln!(self.stdin, "{n}").expect("driver stdin");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("driver stdout");
        let mut parts = line
            .split_whitespace()
            .map(|p| p.parse::<u64>().unwrap_or(0));
        let wall = Duration::from_nanos(parts.next().unwrap_or(0));
        let cpu = Duration::from_nanos(parts.next().unwrap_or(0));
        (wall, cpu)
    }
}

impl Drop for PythonDriver {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

fn sdk(c: &mut Criterion) {
    let addr = start_server();
    let endpoint = format!("http://{addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let agb = Agb::builder()
        .use_environment(false)
        .endpoint(&endpoint)
        .api_key("bench")
        .build()
        .expect("client");
    let session = runtime
        .block_on(agb.create(CreateParams::default()))
        .expect("session");
    for _ in 0..20 {
        runtime
            .block_on(
                session
                    .code()
                    .run("print(1)", Language::Python)
                    .into_future(),
            )
            .expect("warm-up");
    }

    let mut group = c.benchmark_group("sdk");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(8));

    let (mut rust_calls, mut rust_cpu) = (0u64, Duration::ZERO);
    group.bench_function("rust_run", |b| {
        b.iter_custom(|iters| {
            let (wall, cpu) = (std::time::Instant::now(), thread_cpu());
            for _ in 0..iters {
                let run = runtime
                    .block_on(
                        session
                            .code()
                            .run("print(1)", Language::Python)
                            .into_future(),
                    )
                    .expect("run");
                assert!(run.success);
            }
            rust_calls += iters;
            rust_cpu += thread_cpu() - cpu;
            wall.elapsed()
        });
    });
    group.bench_function("rust_run_client_cpu", |b| {
        b.iter_custom(|iters| {
            let cpu = thread_cpu();
            for _ in 0..iters {
                let run = runtime
                    .block_on(
                        session
                            .code()
                            .run("print(1)", Language::Python)
                            .into_future(),
                    )
                    .expect("run");
                assert!(run.success);
            }
            thread_cpu() - cpu
        });
    });
    let rust_cpu_per_call = rust_cpu.as_nanos() as f64 / rust_calls.max(1) as f64;
    write_metric("sdk/rust_client_cpu", rust_cpu_per_call, "ns");
    println!(
        "sdk/rust_run: client CPU {:.1} µs per call",
        rust_cpu_per_call / 1e3
    );

    let python = target_dir()
        .join("conformance-venv")
        .join("bin")
        .join("python");
    if !python.exists() {
        println!(
            "sdk/python_official_run: skipped: {} is absent (run crates/testkit/conformance/run.sh once to create it)",
            python.display()
        );
    } else {
        match PythonDriver::start(&python, &endpoint) {
            Err(reason) => println!("sdk/python_official_run: skipped: {reason}"),
            Ok(mut driver) => {
                let (mut py_calls, mut py_cpu) = (0u64, Duration::ZERO);
                group.bench_function("python_official_run", |b| {
                    b.iter_custom(|iters| {
                        let (wall, cpu) = driver.run(iters);
                        py_calls += iters;
                        py_cpu += cpu;
                        wall
                    });
                });
                group.bench_function("python_official_run_client_cpu", |b| {
                    b.iter_custom(|iters| driver.run(iters).1);
                });
                let py_cpu_per_call = py_cpu.as_nanos() as f64 / py_calls.max(1) as f64;
                write_metric("sdk/python_official_client_cpu", py_cpu_per_call, "ns");
                println!(
                    "sdk/python_official_run: client CPU {:.1} µs per call ({:.1}× ours)",
                    py_cpu_per_call / 1e3,
                    py_cpu_per_call / rust_cpu_per_call.max(1.0)
                );
            }
        }
    }
    group.finish();
    runtime.block_on(session.delete()).ok();
}

criterion_group!(benches, sdk);
criterion_main!(benches);
