//! Helpers shared by the integration tests (they need root, as CI has).
#![allow(dead_code, unreachable_pub)]

use agbcloud_sandbox::{CommandOutput, CommandSpec, Engine, EngineConfig, Image, Limits, Sandbox};

/// An engine with its own state dir so test binaries never reconcile each other away.
pub fn engine() -> Engine {
    Engine::with_config(EngineConfig::default()).expect("start engine (these tests need root)")
}

pub async fn sandbox(engine: &Engine) -> Sandbox {
    engine
        .create(&Image::standard(), &Limits::default())
        .await
        .expect("create sandbox")
}

pub async fn sandbox_with(engine: &Engine, limits: Limits) -> Sandbox {
    engine
        .create(&Image::standard(), &limits)
        .await
        .expect("create sandbox")
}

pub async fn sh(sb: &Sandbox, cmd: &str) -> CommandOutput {
    sb.exec(CommandSpec::new(cmd)).await.expect("exec")
}

/// Whether a host pid is still a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

/// Polls `f` until it holds or ~10 s pass.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    f()
}

/// A kernel set on the host launcher, homed in `dir`, with a short interrupt grace so timeout
/// tests stay quick.
pub fn host_kernels(dir: &tempfile::TempDir) -> agbcloud_sandbox::kernel::KernelSet {
    let config = agbcloud_sandbox::kernel::KernelConfig {
        interrupt_grace: std::time::Duration::from_millis(500),
        ..agbcloud_sandbox::kernel::KernelConfig::default()
    };
    agbcloud_sandbox::kernel::KernelSet::new(
        std::sync::Arc::new(agbcloud_sandbox::host::HostLauncher::new()),
        config.with_home(dir.path()),
    )
}
