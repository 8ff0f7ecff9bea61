//! `cargo xtask tidy`: the crate layering of DESIGN.md §2, read from every `Cargo.toml`.
//!
//! Each crate of ours may depend (normal and build dependencies) only on the crates of ours
//! listed for it below; `agbcloud-transport` must come without its default features where the
//! rule says so; and `agbcloud-wire` must not pull an async runtime, HTTP stack or TLS
//! library, directly or transitively.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// Which of our crates each of our crates may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("agbcloud-wire", &[]),
    ("agbcloud-transport", &["agbcloud-wire"]),
    ("agbcloud-session", &["agbcloud-wire", "agbcloud-transport"]),
    (
        "agbcloud-files",
        &["agbcloud-wire", "agbcloud-transport", "agbcloud-session"],
    ),
    (
        "agbcloud",
        &[
            "agbcloud-wire",
            "agbcloud-transport",
            "agbcloud-session",
            "agbcloud-files",
            "agbcloud-server",
        ],
    ),
    ("agbcloud-sandbox", &[]),
    (
        "agbcloud-server",
        &["agbcloud-wire", "agbcloud-sandbox", "agbcloud-transport"],
    ),
    ("agbcloud-cli", &["agbcloud", "agbcloud-server"]),
    (
        "agbcloud-testkit",
        &["agbcloud", "agbcloud-server", "agbcloud-wire"],
    ),
];

/// Crates that must take `agbcloud-transport` without its default features (the trait only).
const TRANSPORT_WITHOUT_DEFAULTS: &[&str] = &["agbcloud-session", "agbcloud-server"];

/// Crates that must never appear in `agbcloud-wire`'s normal dependency tree.
const WIRE_FORBIDDEN: &[&str] = &["tokio", "hyper", "hyper-util", "rustls", "mio", "socket2"];

pub(crate) fn run() -> Result<()> {
    let root = workspace_root();
    let problems = check(&root)?;
    if problems.is_empty() {
        println!("tidy: crate layering is as DESIGN.md §2 allows");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    bail!("{} layering problem(s)", problems.len())
}

/// Every layering problem in the workspace at `root`, as sentences.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let manifests = read_manifests(root)?;
    let mut problems = layering_problems(&manifests);
    problems.extend(wire_tree_problems(root)?);
    Ok(problems)
}

/// One of our crates' manifests, reduced to what tidy checks.
#[derive(Debug)]
pub(crate) struct Manifest {
    name: String,
    /// Our crates it depends on, with whether default features are off.
    ours: BTreeMap<String, bool>,
}

fn read_manifests(root: &Path) -> Result<Vec<Manifest>> {
    let workspace: toml::Table = read_toml(&root.join("Cargo.toml"))?;
    let workspace_deps = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let mut manifests = Vec::new();
    let crates = root.join("crates");
    let mut dirs: Vec<_> = std::fs::read_dir(&crates)
        .with_context(|| format!("reading {}", crates.display()))?
        .collect::<Result<_, _>>()?;
    dirs.sort_by_key(|d| d.path());
    for dir in dirs {
        let path = dir.path().join("Cargo.toml");
        if path.exists() {
            manifests.push(parse_manifest(&read_toml(&path)?, &workspace_deps)?);
        }
    }
    Ok(manifests)
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.parse()
        .with_context(|| format!("parsing {}", path.display()))
}

pub(crate) fn parse_manifest(
    manifest: &toml::Table,
    workspace_deps: &toml::Table,
) -> Result<Manifest> {
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .context("a manifest without package.name")?
        .to_string();
    let mut ours = BTreeMap::new();
    for section in ["dependencies", "build-dependencies"] {
        let Some(deps) = manifest.get(section).and_then(toml::Value::as_table) else {
            continue;
        };
        for (key, spec) in deps {
            let package = spec
                .get("package")
                .and_then(toml::Value::as_str)
                .unwrap_or(key);
            if !package.starts_with("agbcloud") {
                continue;
            }
            ours.insert(
                package.to_string(),
                default_features_off(spec, workspace_deps.get(key)),
            );
        }
    }
    Ok(Manifest { name, ours })
}

/// Whether a dependency entry turns default features off, following `workspace = true`.
fn default_features_off(spec: &toml::Value, workspace_spec: Option<&toml::Value>) -> bool {
    let off =
        |v: &toml::Value| v.get("default-features").and_then(toml::Value::as_bool) == Some(false);
    if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
        // A member may turn defaults back on only by naming them in `features`; inheriting
        // `default-features = false` from the workspace keeps them off.
        workspace_spec.is_some_and(off) && !off_overridden(spec)
    } else {
        off(spec)
    }
}

fn off_overridden(spec: &toml::Value) -> bool {
    spec.get("default-features").and_then(toml::Value::as_bool) == Some(true)
        || spec
            .get("features")
            .and_then(toml::Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("default")))
}

pub(crate) fn layering_problems(manifests: &[Manifest]) -> Vec<String> {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(name, deps)| (*name, deps.iter().copied().collect()))
        .collect();
    let mut problems = Vec::new();
    for manifest in manifests {
        let Some(may) = allowed.get(manifest.name.as_str()) else {
            problems.push(format!(
                "{} is not in the layering table of xtask/src/tidy.rs",
                manifest.name
            ));
            continue;
        };
        for (dep, defaults_off) in &manifest.ours {
            if !may.contains(dep.as_str()) {
                problems.push(format!(
                    "{} must not depend on {dep} (DESIGN.md §2)",
                    manifest.name
                ));
            }
            if dep == "agbcloud-transport"
                && TRANSPORT_WITHOUT_DEFAULTS.contains(&manifest.name.as_str())
                && !defaults_off
            {
                problems.push(format!(
                    "{} must depend on agbcloud-transport with default-features = false",
                    manifest.name
                ));
            }
        }
    }
    problems
}

/// Problems in `agbcloud-wire`'s resolved normal dependency tree, from `cargo tree`.
fn wire_tree_problems(root: &Path) -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "-p",
            "agbcloud-wire",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .context("running cargo tree")?;
    if !output.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(forbidden_in_tree(&String::from_utf8_lossy(&output.stdout)))
}

pub(crate) fn forbidden_in_tree(tree: &str) -> Vec<String> {
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    WIRE_FORBIDDEN
        .iter()
        .filter(|f| names.contains(*f))
        .map(|f| format!("agbcloud-wire must not pull {f} (it has no IO)"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str, workspace: &str) -> Manifest {
        let workspace: toml::Table = workspace.parse().unwrap();
        parse_manifest(&text.parse().unwrap(), &workspace).unwrap()
    }

    #[test]
    fn the_workspace_obeys_the_layering() {
        let problems = check(&workspace_root()).unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_layer_reaching_up_is_reported() {
        let wire = manifest(
            "[package]\nname = \"agbcloud-wire\"\n[dependencies]\nagbcloud-session = { path = \"x\" }\n",
            "",
        );
        let problems = layering_problems(&[wire]);
        assert_eq!(
            problems,
            ["agbcloud-wire must not depend on agbcloud-session (DESIGN.md §2)"]
        );
    }

    #[test]
    fn renamed_dependencies_are_seen_through() {
        let sandbox = manifest(
            "[package]\nname = \"agbcloud-sandbox\"\n[dependencies]\nw = { package = \"agbcloud-wire\", path = \"x\" }\n",
            "",
        );
        assert_eq!(layering_problems(&[sandbox]).len(), 1);
    }

    #[test]
    fn transport_defaults_follow_workspace_inheritance() {
        let ws = "agbcloud-transport = { path = \"t\", default-features = false }";
        let inherits = manifest(
            "[package]\nname = \"agbcloud-server\"\n[dependencies]\nagbcloud-transport.workspace = true\n",
            ws,
        );
        assert!(layering_problems(&[inherits]).is_empty());
        let turns_on = manifest(
            "[package]\nname = \"agbcloud-server\"\n[dependencies]\nagbcloud-transport = { workspace = true, features = [\"default\"] }\n",
            ws,
        );
        assert_eq!(layering_problems(&[turns_on]).len(), 1);
    }

    #[test]
    fn forbidden_crates_in_the_wire_tree_are_named() {
        let tree = "agbcloud-wire v0.1.0\nserde v1.0.0\ntokio v1.40.0\n";
        assert_eq!(
            forbidden_in_tree(tree),
            ["agbcloud-wire must not pull tokio (it has no IO)"]
        );
    }
}
