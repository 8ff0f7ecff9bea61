//! The R kernel: a small driver (`kernels/r_driver.R`) run with `Rscript -e` when `Rscript`
//! exists where the kernel starts; otherwise starting it fails with
//! [`KernelError::Unavailable`](super::KernelError::Unavailable).

use std::sync::Arc;

use super::driver::{DriverKernel, impl_kernel};
use super::{KernelConfig, Language, frame};
use crate::launch::{Launch, ProcessSpec};

/// Source of the R driver, embedded so nothing has to exist in the sandbox.
pub const R_DRIVER: &str = include_str!("../../kernels/r_driver.R");

/// Why R cannot start when `Rscript` is missing.
pub const NO_RSCRIPT: &str = "Rscript is not installed on this host";

/// A stateful R session (global environment kept between cells).
#[derive(Debug)]
pub struct RKernel(DriverKernel);

impl RKernel {
    /// A kernel that starts `config.rscript` through `launcher` on first use.
    pub fn new(launcher: Arc<dyn Launch>, config: &KernelConfig) -> Self {
        RKernel(DriverKernel::new(
            Language::R,
            launcher,
            spec(config),
            config,
        ))
    }
}

/// The process that runs the R driver. A shell first checks that `Rscript` exists and, if it
/// does not, answers with an `unavailable` frame instead of `ready`.
pub fn spec(config: &KernelConfig) -> ProcessSpec {
    let script = r#"command -v "$1" >/dev/null 2>&1 || { printf "$2"; exit 0; }
r="$1"; shift 2
exec "$r" --vanilla "$@" 3<&0 4>&1 0</dev/null 1>&2"#;
    let argv = vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "sh".into(),
        config.rscript.clone(),
        unavailable_printf(NO_RSCRIPT),
        "-e".into(),
        R_DRIVER.into(),
    ];
    ProcessSpec {
        argv,
        env: config.env.clone(),
        cwd: config.cwd.clone(),
    }
}

/// A `printf` format that prints one `unavailable` frame.
fn unavailable_printf(reason: &str) -> String {
    let body = serde_json::json!({ "type": "unavailable", "reason": reason }).to_string();
    let mut out = String::new();
    if let Ok(bytes) = frame::encode(body.as_bytes()) {
        for b in bytes {
            match b {
                b'%' => out.push_str("%%"),
                b'\\' => out.push_str("\\\\"),
                0x20..=0x7e => out.push(b as char),
                _ => out.push_str(&format!("\\{b:03o}")),
            }
        }
    }
    out
}

impl_kernel!(RKernel);
