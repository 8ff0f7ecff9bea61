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

/// The process that runs the JShell driver, with a capped heap, C1 only and the serial GC.
///
/// A shell runs `<driver_dir>/java-<hash>/AgbJShellDriver.class` when an earlier start
/// compiled it; otherwise it writes the source there (atomically), runs it with the
/// single-file source launcher, and the driver compiles itself into that directory in the
/// background after it is ready, so restarts skip the source compilation (about 0.3 s).
pub fn spec(config: &KernelConfig) -> ProcessSpec {
    let script = r#"c="$1/java-$2"; src="$3"; shift 3
if [ -f "$c/AgbJShellDriver.class" ]; then
  exec "$@" -cp "$c" AgbJShellDriver 3<&0 4>&1 0</dev/null 1>&2
fi
mkdir -p "$c" && printf '%s' "$src" > "$c/.src.$$" && mv -f "$c/.src.$$" "$c/AgbJShellDriver.java" || exit 1
exec "$@" "$c/AgbJShellDriver.java" "$c" 3<&0 4>&1 0</dev/null 1>&2"#;
    let argv = vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "sh".into(),
        config.driver_dir.clone(),
        source_hash(JAVA_DRIVER),
        JAVA_DRIVER.into(),
        config.java.clone(),
        format!("-Xmx{}", config.java_heap),
        "-Xss4m".into(),
        "--add-opens=java.base/java.io=ALL-UNNAMED".into(),
        "-XX:+DisplayVMOutputToStderr".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-XX:+UseSerialGC".into(),
    ];
    ProcessSpec {
        argv,
        env: config.env.clone(),
        cwd: config.cwd.clone(),
    }
}

/// FNV-1a of the driver source, so a changed driver never runs stale compiled classes.
fn source_hash(source: &str) -> String {
    let hash = source.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

impl_kernel!(JavaKernel);
