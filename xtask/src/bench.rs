//! `cargo xtask bench [NAME...]`: run the criterion benches of `benches/` and summarise them.
//!
//! With names, only those bench targets run (`transport`, `sandbox`, ...). Afterwards every
//! criterion result under `target/criterion` and every extra measurement that a bench wrote to
//! `target/bench/metrics/*.json` (`{"name", "value", "unit"}`, for memory and the like) is
//! gathered into a table on stdout, `target/bench/summary.md` and `target/bench/summary.json`,
//! together with the ratios of [`RATIOS`] measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::workspace_root;

/// Pairs reported as a ratio: (label, numerator id, denominator id).
const RATIOS: &[(&str, &str, &str)] = &[
    (
        "keep-alive speed-up over a new connection per call",
        "transport/new_connection",
        "transport/keepalive",
    ),
    (
        "cold create over a plain spawn of /bin/true",
        "sandbox/create_cold",
        "floor/spawn_true",
    ),
    (
        "`echo hi` over a plain spawn of /bin/true",
        "sandbox/echo_hi",
        "floor/spawn_true",
    ),
    (
        "warm print(1) over a raw pipe round trip",
        "kernel/python_print1_warm",
        "floor/python_pipe_roundtrip",
    ),
    (
        "print(1) over loopback HTTP over in-process",
        "server/print1_http",
        "server/print1_inprocess",
    ),
    (
        "official Python SDK over our SDK, per code.run",
        "sdk/python_official_run",
        "sdk/rust_run",
    ),
    (
        "official Python SDK over our SDK, client CPU per code.run",
        "sdk/python_official_run_client_cpu",
        "sdk/rust_run_client_cpu",
    ),
    (
        "`echo hi` in a sandbox over `sh -c echo hi` on the host",
        "sandbox/echo_hi",
        "floor/sh_echo_hi",
    ),
];

/// One measured benchmark.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    median_ns: f64,
    mean_ns: f64,
}

/// One extra measurement written by a bench.
#[derive(Debug, Serialize, Deserialize)]
struct Metric {
    name: String,
    value: f64,
    unit: String,
}

#[derive(Debug, Serialize)]
struct Summary {
    benchmarks: Vec<Row>,
    metrics: Vec<Metric>,
    ratios: Vec<Ratio>,
}

#[derive(Debug, Serialize)]
struct Ratio {
    label: String,
    numerator: String,
    denominator: String,
    ratio: f64,
}

pub(crate) fn run(names: &[&str]) -> Result<()> {
    let root = workspace_root();
    let target = target_dir(&root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["bench", "-p", "agbcloud-benches"]);
    for name in names {
        command.args(["--bench", name]);
    }
    let status = command.status().context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }
    let summary = Summary {
        benchmarks: read_criterion(&target.join("criterion"))?,
        metrics: read_metrics(&target.join("bench").join("metrics"))?,
        ratios: Vec::new(),
    };
    let summary = with_ratios(summary);
    let out = target.join("bench");
    std::fs::create_dir_all(&out)?;
    let table = render(&summary);
    print!("\n{table}");
    std::fs::write(out.join("summary.md"), &table)?;
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    println!("\nwritten: {}", out.join("summary.json").display());
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Every `<id>/new/estimates.json` criterion left, with the id from its `benchmark.json`.
fn read_criterion(dir: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    if dir.exists() {
        collect_estimates(dir, &mut rows)?;
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

fn collect_estimates(dir: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let new = dir.join("new");
    if new.join("estimates.json").exists() && new.join("benchmark.json").exists() {
        let estimates: serde_json::Value = read_json(&new.join("estimates.json"))?;
        let benchmark: serde_json::Value = read_json(&new.join("benchmark.json"))?;
        let point = |key: &str| {
            estimates[key]["point_estimate"]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let id = benchmark["full_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        rows.push(Row {
            id,
            median_ns: point("median"),
            mean_ns: point("mean"),
        });
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "report") {
            collect_estimates(&path, rows)?;
        }
    }
    Ok(())
}

fn read_metrics(dir: &Path) -> Result<Vec<Metric>> {
    let mut metrics = Vec::new();
    if !dir.exists() {
        return Ok(metrics);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            metrics.push(read_json(&path)?);
        }
    }
    metrics.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(metrics)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn with_ratios(mut summary: Summary) -> Summary {
    let median = |id: &str| {
        summary
            .benchmarks
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.median_ns)
    };
    summary.ratios = RATIOS
        .iter()
        .filter_map(|(label, num, den)| {
            let ratio = median(num)? / median(den)?;
            Some(Ratio {
                label: label.to_string(),
                numerator: num.to_string(),
                denominator: den.to_string(),
                ratio,
            })
        })
        .collect();
    summary
}

fn render(summary: &Summary) -> String {
    let mut out = String::from("| benchmark | median | mean |\n|---|---:|---:|\n");
    for row in &summary.benchmarks {
        out += &format!(
            "| {} | {} | {} |\n",
            row.id,
            human(row.median_ns),
            human(row.mean_ns)
        );
    }
    if !summary.metrics.is_empty() {
        out += "\n| measurement | value |\n|---|---:|\n";
        for m in &summary.metrics {
            let value = match m.unit.as_str() {
                "ns" => human(m.value),
                unit => format!("{:.3} {unit}", m.value),
            };
            out += &format!("| {} | {value} |\n", m.name);
        }
    }
    if !summary.ratios.is_empty() {
        out += "\n| ratio (same run) | value |\n|---|---:|\n";
        for r in &summary.ratios {
            out += &format!(
                "| {} ({} / {}) | {:.2}× |\n",
                r.label, r.numerator, r.denominator, r.ratio
            );
        }
    }
    out
}

/// Nanoseconds as the largest unit that keeps the number at least 1.
fn human(ns: f64) -> String {
    match ns {
        ns if ns >= 1e9 => format!("{:.3} s", ns / 1e9),
        ns if ns >= 1e6 => format!("{:.3} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.3} µs", ns / 1e3),
        ns => format!("{ns:.1} ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_largest_whole_unit() {
        assert_eq!(human(1_500.0), "1.500 µs");
        assert_eq!(human(2_250_000.0), "2.250 ms");
        assert_eq!(human(12.0), "12.0 ns");
    }

    #[test]
    fn ratios_are_taken_between_medians_of_the_same_run() {
        let row = |id: &str, median_ns| Row {
            id: id.into(),
            median_ns,
            mean_ns: median_ns,
        };
        let summary = with_ratios(Summary {
            benchmarks: vec![
                row("transport/keepalive", 100.0),
                row("transport/new_connection", 450.0),
            ],
            metrics: vec![],
            ratios: vec![],
        });
        assert_eq!(summary.ratios.len(), 1);
        assert!((summary.ratios[0].ratio - 4.5).abs() < 1e-9);
        assert!(render(&summary).contains("4.50×"));
    }

    #[test]
    fn criterion_output_is_found_below_groups() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let new = dir.join("transport").join("keepalive").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":1234.0},"mean":{"point_estimate":1300.0}}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"full_id":"transport/keepalive"}"#,
        )
        .unwrap();
        let rows = read_criterion(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, "transport/keepalive");
        assert_eq!(rows[0].median_ns, 1234.0);
    }
}
