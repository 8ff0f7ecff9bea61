//! File transfer on the embedded engine: MB/s of uploading and downloading a 64 MiB file
//! (binary, verified with SHA-256 and not; ASCII text, which goes up through `write_file`), and how much the process's peak RSS grows meanwhile
//! (the transfer streams, so it should stay far below the file size; the engine runs in
//! this process too, so its memory is included).
//!
//! One measured run of each (a 64 MiB transfer is long enough to time by itself).

use std::io::Write;
use std::time::Instant;

use agbcloud::files::Transfer;
use agbcloud::prelude::*;

const SIZE: usize = 64 * 1024 * 1024;

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Writes `SIZE` pseudo-random bytes (or, with `text`, lines of ASCII) in 1 MiB steps (never
/// the whole file in memory).
fn make_file(path: &std::path::Path, text: bool) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut block = vec![0u8; 1024 * 1024];
    for _ in 0..SIZE / block.len() {
        for byte in block.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = if text {
                b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[(state % 38) as usize]
            } else {
                (state >> 24) as u8
            };
        }
        file.write_all(&block).expect("write");
    }
    file.flush().expect("flush");
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("big.bin");
    make_file(&binary, false);
    let text = dir.path().join("big.txt");
    make_file(&text, true);
    runtime.block_on(async {
        let agb = Agb::builder().use_environment(false).build().expect("client");
        let session = agb.create_guarded(CreateParams::default()).await.expect("session");
        for (kind, local, verify) in [
            ("binary", &binary, true),
            ("binary", &binary, false),
            ("text", &text, true),
        ] {
            let transfer = Transfer::new(&session).verify(verify);
            // Warm up the engine's paths with a small file.
            let small = dir.path().join("small.bin");
            std::fs::write(&small, vec![7u8; 300_000]).expect("small");
            transfer.upload(&small, "/tmp/small.bin").await.expect("warm-up");
            let (rss, peak) = (status_kib("VmRSS"), status_kib("VmHWM"));
            let started = Instant::now();
            transfer.upload(local, "/tmp/big.bin").await.expect("upload");
            let up = started.elapsed();
            let started = Instant::now();
            transfer.download("/tmp/big.bin", dir.path().join("back.bin")).await.expect("download");
            let down = started.elapsed();
            let mb = SIZE as f64 / 1e6;
            println!(
                "files/64MiB {kind} verify={verify}: upload {:.1} MB/s ({:.2} s), download {:.1} MB/s ({:.2} s); \
                 RSS {} -> {} KiB, peak RSS growth {} KiB",
                mb / up.as_secs_f64(),
                up.as_secs_f64(),
                mb / down.as_secs_f64(),
                down.as_secs_f64(),
                rss,
                status_kib("VmRSS"),
                status_kib("VmHWM").saturating_sub(peak),
            );
        }
        session.close().await.expect("close");
    });
}
