//! Local sandbox latency, each beside a floor measured in the same run:
//!
//! * `sandbox/create_cold`: create a sandbox until it is ready (target ≤ 5 ms p50);
//!   floor: `floor/spawn_true`, a plain spawn of `/bin/true` on the host;
//! * `sandbox/echo_hi`: `echo hi` through `sh -c` in a live sandbox (target ≤ 4 ms p50);
//!   floor: `floor/sh_echo_hi`, the same shell command spawned on the host;
//! * `sandbox/pool_acquire`: take a ready sandbox from a full warm pool;
//!   floor: `floor/spawn_true` again (a pool hit must cost far less than any spawn);
//! * `sandbox/create_first_print1`: create a sandbox, start Python in it and get the result of
//!   `print(1)` (target ≤ 30 ms p50);
//! * `sandbox/pool_warm_print1`: take a sandbox whose Python kernel the pool already started and
//!   get the result of `print(1)` (target ≤ 1 ms p50).
//!
//! Also prints the RSS and PSS of an idle sandbox before any kernel starts (target ≤ 1 MiB).
//! Needs root (cgroups), like the sandbox's integration tests.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use agbcloud_sandbox::kernel::{KernelConfig, KernelSet, Language};
use agbcloud_sandbox::{CommandSpec, Engine, Image, Limits, Pool, SandboxError};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn floors(c: &mut Criterion) {
    c.bench_function("floor/spawn_true", |b| {
        b.iter(|| {
            Command::new("/bin/true")
                .stdout(Stdio::null())
                .status()
                .expect("spawn /bin/true")
        })
    });
    c.bench_function("floor/sh_echo_hi", |b| {
        b.iter(|| {
            Command::new("/bin/sh")
                .args(["-c", "echo hi"])
                .output()
                .expect("spawn sh")
        })
    });
}

fn sandbox(c: &mut Criterion) {
    let rt = runtime();
    let engine = Engine::new().expect("engine (run as root)");
    let image = Image::standard();
    let limits = Limits::default();

    c.bench_function("sandbox/create_cold", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let sb = rt.block_on(engine.create(&image, &limits)).expect("create");
                total += start.elapsed();
                rt.block_on(sb.destroy()).expect("destroy");
            }
            total
        })
    });

    let sb = rt.block_on(engine.create(&image, &limits)).expect("create");
    c.bench_function("sandbox/echo_hi", |b| {
        b.iter(|| {
            let out = rt
                .block_on(sb.exec(CommandSpec::new("echo hi")))
                .expect("exec");
            assert_eq!(out.stdout, b"hi\n");
        })
    });

    // Idle memory of a fresh sandbox (its init only), before any kernel starts.
    let idle = rt.block_on(engine.create(&image, &limits)).expect("create");
    std::thread::sleep(Duration::from_millis(100));
    let (rss, pss) = idle.memory_usage();
    println!(
        "sandbox/idle_memory: {} processes, RSS {:.2} MiB, PSS {:.2} MiB (target PSS <= 1 MiB)",
        idle.pids().len(),
        rss as f64 / 1048576.0,
        pss as f64 / 1048576.0
    );
    drop(idle);

    let pool = rt.block_on(async { Pool::new(engine.clone(), image.clone(), limits.clone(), 4) });
    c.bench_function("sandbox/pool_acquire", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(pool.wait_full());
                let start = Instant::now();
                let sb = rt.block_on(pool.acquire()).expect("acquire");
                total += start.elapsed();
                drop(sb);
            }
            total
        })
    });
    drop(pool);
    rt.block_on(sb.destroy()).ok();

    let print1 = |kernels: &KernelSet| {
        let run = rt
            .block_on(kernels.execute("python", "print(1)", Duration::from_secs(30), None))
            .expect("print(1)");
        assert_eq!(run.stdout_text(), "1\n");
    };
    c.bench_function("sandbox/create_first_print1", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let sb = rt.block_on(engine.create(&image, &limits)).expect("create");
                let kernels = KernelSet::new(Arc::new(sb.clone()), KernelConfig::default());
                print1(&kernels);
                total += start.elapsed();
                drop(kernels);
                rt.block_on(sb.destroy()).expect("destroy");
            }
            total
        })
    });

    let warm = rt.block_on(async {
        Pool::with_warmup(
            engine.clone(),
            image.clone(),
            limits.clone(),
            4,
            |sb| async move {
                let kernels = KernelSet::new(Arc::new(sb), KernelConfig::default());
                kernels
                    .start(Language::Python)
                    .await
                    .map_err(|e| SandboxError::Setup(format!("python warm-up: {e}")))?;
                Ok(kernels)
            },
        )
    });
    c.bench_function("sandbox/pool_warm_print1", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(warm.wait_full());
                let start = Instant::now();
                let (sb, kernels) = rt.block_on(warm.acquire_warm()).expect("acquire");
                print1(&kernels);
                total += start.elapsed();
                drop(kernels);
                drop(sb);
            }
            total
        })
    });
    drop(warm);
}

/// Prints p50/p95 of each operation (criterion reports means), n = 100 each, same run.
fn percentiles(_c: &mut Criterion) {
    let rt = runtime();
    let engine = Engine::new().expect("engine");
    let image = Image::standard();
    let limits = Limits::default();
    let report = |name: &str, mut v: Vec<Duration>| {
        v.sort();
        let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
        println!(
            "{name:<22} p50 {:>8.3} ms   p95 {:>8.3} ms   (n = {})",
            p(0.5),
            p(0.95),
            v.len()
        );
    };
    let n = 100;
    let mut floor = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        Command::new("/bin/true").status().expect("spawn");
        floor.push(t.elapsed());
    }
    report("floor/spawn_true", floor);
    let mut create = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let sb = rt.block_on(engine.create(&image, &limits)).expect("create");
        create.push(t.elapsed());
        rt.block_on(sb.destroy()).expect("destroy");
    }
    report("sandbox/create_cold", create);
    let sb = rt.block_on(engine.create(&image, &limits)).expect("create");
    let mut echo = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        rt.block_on(sb.exec(CommandSpec::new("echo hi")))
            .expect("exec");
        echo.push(t.elapsed());
    }
    report("sandbox/echo_hi", echo);
    let pool = rt.block_on(async { Pool::new(engine.clone(), image.clone(), limits.clone(), 4) });
    let mut acquire = Vec::new();
    for _ in 0..n {
        rt.block_on(pool.wait_full());
        let t = Instant::now();
        let got = rt.block_on(pool.acquire()).expect("acquire");
        acquire.push(t.elapsed());
        drop(got);
    }
    report("sandbox/pool_acquire", acquire);
    drop(pool);

    // Density: 500 idle sandboxes at once (none runs a kernel).
    let mem_available = || -> u64 {
        let s = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        s.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let before = mem_available();
    let t = Instant::now();
    let idle: Vec<_> = (0..500)
        .map(|_| rt.block_on(engine.create(&image, &limits)).expect("create"))
        .collect();
    let took = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let drop_per = before.saturating_sub(mem_available()) as f64 / 500.0 / 1048576.0;
    let pss: u64 = idle.iter().map(|s| s.memory_usage().1).sum();
    println!(
        "sandbox/density_500   created in {:.2} s; per sandbox: MemAvailable drop {drop_per:.2} MiB, PSS {:.3} MiB",
        took.as_secs_f64(),
        pss as f64 / 500.0 / 1048576.0
    );
    let t = Instant::now();
    for s in idle {
        rt.block_on(s.destroy()).expect("destroy");
    }
    println!("sandbox/destroy_500    {:.2} s", t.elapsed().as_secs_f64());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = floors, sandbox, percentiles
}
criterion_main!(benches);
