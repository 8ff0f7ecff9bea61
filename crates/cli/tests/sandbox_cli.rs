//! `agb sandbox exec` and `agb doctor` from the real binary (the sandbox init hook must work
//! from `agb` too). Needs root, as CI has.

use std::process::Command;

fn agb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agb"))
}

#[test]
fn sandbox_exec_streams_output_and_exits_with_the_status() {
    let out = agb()
        .args([
            "sandbox",
            "exec",
            "--memory",
            "256M",
            "--pids",
            "64",
            "--timeout",
            "20s",
            "--",
            "sh",
            "-c",
            "echo hi; id -u; echo oops >&2; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("hi"));
    assert_ne!(lines.next(), Some("0"), "ran as root");
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
}

#[test]
fn sandbox_exec_reports_a_timeout() {
    let out = agb()
        .args(["sandbox", "exec", "--timeout", "300ms", "--", "sleep", "30"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
}

#[test]
fn doctor_lists_the_isolation_features() {
    let out = agb().arg("doctor").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for feature in [
        "namespace pid",
        "filesystem overlay",
        "cgroup memory",
        "seccomp filter",
        "landlock",
    ] {
        assert!(stdout.contains(feature), "{stdout}");
    }
}
