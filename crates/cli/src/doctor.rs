//! `agb doctor`: which isolation features this host has; a missing one is loud.

use std::process::ExitCode;

use agbcloud_server::sandbox::doctor::probe;

pub(crate) fn run() -> ExitCode {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "agb doctor: local sandbox isolation on Linux {}",
        kernel.trim()
    );
    let features = probe();
    let width = features.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let mut missing = Vec::new();
    for f in &features {
        let mark = if f.ok { "ok     " } else { "MISSING" };
        println!("  {mark}  {:width$}  {}", f.name, f.detail);
        if !f.ok {
            missing.push(f.name.as_str());
        }
    }
    if missing.is_empty() {
        println!("all isolation features are available");
        ExitCode::SUCCESS
    } else {
        eprintln!();
        eprintln!(
            "WARNING: {} feature(s) missing: {}",
            missing.len(),
            missing.join(", ")
        );
        eprintln!(
            "WARNING: sandboxes on this host are weaker than designed; see the lines marked MISSING"
        );
        ExitCode::FAILURE
    }
}
