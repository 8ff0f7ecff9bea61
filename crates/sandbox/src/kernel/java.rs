//! The Java kernel: a JShell-API driver (`kernels/AgbJShellDriver.java`) with the local
//! execution engine, so snippets run in the driver's own JVM.

use std::sync::Arc;

use super::driver::{DriverKernel, impl_kernel};
use super::{KernelConfig, Language};
use crate::launch::{Launch, ProcessSpec};

/// Source of the JShell driver. It is written into the sandbox by the start command itself
/// (passed as an argument), then run with the single-file source launcher.
pub const JAVA_DRIVER: &str = include_str!("../../kernels/AgbJShellDriver.java");

/// A stateful JShell: Java snippets without a class, values shown as JShell shows them
/// (`"aaa"`, `[1, 2, 3]`).
#[derive(Debug)]
pub struct JavaKernel(DriverKernel);

impl JavaKernel {
    /// A kernel that starts `config.java` through `launcher` on first use.
    pub fn new(launcher: Arc<dyn Launch>, config: &KernelConfig) -> Self {
        JavaKernel(DriverKernel::new(
            Language::Java,
            launcher,
            spec(config),
            config,
        ))
    }
}

/// The process that runs the JShell driver: a shell writes the source to
/// `<driver_dir>/AgbJShellDriver.java` (atomically) and execs `java` on it with a capped heap,
/// C1 only and the serial GC.
pub fn spec(config: &KernelConfig) -> ProcessSpec {
    let script = r#"d="$1"; shift; src="$1"; shift
mkdir -p "$d" && printf '%s' "$src" > "$d/.drv.$$" && mv -f "$d/.drv.$$" "$d/AgbJShellDriver.java" || exit 1
exec "$@" "$d/AgbJShellDriver.java" 3<&0 4>&1 0</dev/null 1>&2"#;
    let argv = vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "sh".into(),
        config.driver_dir.clone(),
        JAVA_DRIVER.into(),
        config.java.clone(),
        format!("-Xmx{}", config.java_heap),
        "-Xss4m".into(),
        "--add-opens=java.base/java.io=ALL-UNNAMED".into(),
        "-XX:+DisplayVMOutputToStderr".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-XX:+UseSerialGC".into(),
        "-Xshare:auto".into(),
    ];
    ProcessSpec {
        argv,
        env: config.env.clone(),
        cwd: config.cwd.clone(),
    }
}

impl_kernel!(JavaKernel);
