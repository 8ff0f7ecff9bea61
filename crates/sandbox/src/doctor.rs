//! `agb doctor`: which isolation features this host has.

use std::path::Path;

use crate::cgroup::{Controller, Layout};

/// One feature and whether the host has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// What it is.
    pub name: String,
    /// Whether it is available.
    pub ok: bool,
    /// Details (version, where, or why not).
    pub detail: String,
}

/// Probes the host (cheap, read-only).
pub fn probe() -> Vec<Feature> {
    let mut out = Vec::new();
    let mut add = |name: &str, ok: bool, detail: String| {
        out.push(Feature {
            name: name.into(),
            ok,
            detail,
        })
    };
    let root = crate::sys::proc::geteuid() == 0;
    add(
        "root",
        root,
        if root {
            "running as root: cgroup limits, no user namespace needed".into()
        } else {
            "not root: user namespace + rlimits only".into()
        },
    );
    for ns in ["mnt", "pid", "net", "ipc", "uts", "user"] {
        let ok = Path::new("/proc/self/ns").join(ns).exists();
        add(
            &format!("namespace {ns}"),
            ok,
            if ok {
                "available".into()
            } else {
                "missing".into()
            },
        );
    }
    let userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    add(
        "user namespaces",
        userns.trim().parse::<u64>().unwrap_or(0) > 0,
        format!("max_user_namespaces = {}", userns.trim()),
    );
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    for f in ["overlay", "tmpfs", "proc", "devpts"] {
        let ok = fs.lines().any(|l| l.split_whitespace().last() == Some(f));
        add(
            &format!("filesystem {f}"),
            ok,
            if ok {
                "available".into()
            } else {
                "not in /proc/filesystems".into()
            },
        );
    }
    match Layout::detect() {
        Ok(l) => {
            add(
                "cgroup2",
                l.v2_base.is_some(),
                l.v2_base.as_ref().map_or("not mounted".into(), |p| {
                    format!("{} (kill/populated)", p.display())
                }),
            );
            for c in Controller::ALL {
                let (ok, detail) = match l.controller(c) {
                    Some(true) => (true, "cgroup v2".to_string()),
                    Some(false) => (
                        true,
                        format!(
                            "cgroup v1 at {}",
                            l.v1_bases
                                .iter()
                                .find(|(x, _)| *x == c)
                                .map_or(String::new(), |(_, p)| p.display().to_string())
                        ),
                    ),
                    None => (false, "not available: this limit cannot be enforced".into()),
                };
                add(&format!("cgroup {}", c.name()), ok, detail);
            }
        }
        Err(e) => add("cgroups", false, format!("cannot read layout: {e}")),
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let seccomp = status.lines().any(|l| l.starts_with("Seccomp:"));
    add(
        "seccomp filter",
        seccomp,
        if seccomp {
            "available".into()
        } else {
            "kernel without seccomp".into()
        },
    );
    let abi = crate::landlock::abi_version();
    add(
        "landlock",
        abi > 0,
        if abi > 0 {
            format!("ABI {abi}")
        } else {
            "not enabled on this kernel".into()
        },
    );
    let exe = Path::new("/proc/self/exe").exists();
    add(
        "re-exec via /proc/self/exe",
        exe,
        if exe {
            "available".into()
        } else {
            "no /proc".into()
        },
    );
    out
}
