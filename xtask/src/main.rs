//! Project automation: `cargo xtask <codegen [--check] | tidy | bench | release --dry-run [--no-verify]>`.

mod bench;
mod codegen;
mod release;
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(flag(&flags, "--check")),
        Some("tidy") => tidy::run(),
        Some("bench") => bench::run(&flags),
        Some("release") => release::run(flag(&flags, "--dry-run"), !flag(&flags, "--no-verify")),
        _ => bail!(
            "usage: cargo xtask <codegen [--check] | tidy | bench [NAME...] | release --dry-run [--no-verify]>"
        ),
    }
}

fn flag(flags: &[&str], name: &str) -> bool {
    flags.contains(&name)
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}
