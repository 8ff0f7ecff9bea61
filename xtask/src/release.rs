//! `cargo xtask release --dry-run [--no-verify]`: package every publishable crate in dependency
//! order, without publishing.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

pub(crate) fn run(dry_run: bool, verify: bool) -> Result<()> {
    if !dry_run {
        bail!("only `cargo xtask release --dry-run` exists: publishing is done by a maintainer");
    }
    let order = publish_order()?;
    println!("release order: {}", order.join(" → "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["package", "--allow-dirty"]);
    if !verify {
        command.arg("--no-verify");
    }
    for name in &order {
        command.args(["-p", name]);
    }
    let status = command.status().context("running cargo package")?;
    if !status.success() {
        bail!("cargo package failed ({status})");
    }
    println!(
        "packaged {} crates into target/package (nothing published)",
        order.len()
    );
    Ok(())
}

/// Publishable workspace packages, each after the workspace packages it depends on.
fn publish_order() -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"]
        .as_array()
        .context("metadata without packages")?;
    let mut graph = BTreeMap::new();
    for package in packages {
        // `publish = false` shows as an empty list of registries.
        if package["publish"].as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        let name = package["name"]
            .as_str()
            .context("package without a name")?
            .to_string();
        let deps: BTreeSet<String> = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null() || d["kind"] == "build")
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .collect();
        graph.insert(name, deps);
    }
    topological(&graph)
}

/// Kahn's order over `graph` (package → its dependencies), restricted to its own keys.
fn topological(graph: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    while done.len() < graph.len() {
        let ready = graph.iter().find(|(name, deps)| {
            !done.contains(name)
                && deps
                    .iter()
                    .all(|d| !graph.contains_key(d) || done.contains(d))
        });
        let Some((name, _)) = ready else {
            bail!("the workspace crates depend on each other in a cycle");
        };
        done.push(name.clone());
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_first() {
        let graph: BTreeMap<String, BTreeSet<String>> = [
            ("agbcloud", &["agbcloud-session", "serde"][..]),
            ("agbcloud-session", &["agbcloud-wire"]),
            ("agbcloud-wire", &["serde"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect();
        assert_eq!(
            topological(&graph).unwrap(),
            ["agbcloud-wire", "agbcloud-session", "agbcloud"]
        );
    }

    #[test]
    fn a_cycle_is_an_error() {
        let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), BTreeSet::from([v.to_string()])))
            .collect();
        assert!(topological(&graph).is_err());
    }
}
