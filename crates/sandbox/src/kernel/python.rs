//! The Python kernel: our own driver (`kernels/python_driver.py`) run with `python3 -c`.

use std::sync::Arc;

use super::driver::DriverKernel;
use super::{KernelConfig, Language};
use crate::launch::{Launch, ProcessSpec};

/// Source of the Python driver, embedded so nothing has to exist in the sandbox.
pub const PYTHON_DRIVER: &str = include_str!("../../kernels/python_driver.py");

/// The `-c` program: runs [`PYTHON_DRIVER`] (its first argument) one section at a time, so
/// compiling it leaves less heap behind in every idle kernel (about 1.3 MiB less).
pub const PYTHON_BOOTSTRAP: &str = include_str!("../../kernels/python_bootstrap.py");

/// A stateful Python interpreter: persistent globals, last expression as the main result,
/// rich outputs (`_repr_*_`, `display()`, matplotlib figures), captured fd 1 and 2.
#[derive(Debug)]
pub struct PythonKernel(DriverKernel);

impl PythonKernel {
    /// A kernel that starts `config.python` through `launcher` on first use.
    pub fn new(launcher: Arc<dyn Launch>, config: &KernelConfig) -> Self {
        PythonKernel(DriverKernel::new(
            Language::Python,
            launcher,
            spec(config),
            config,
        ))
    }
}

/// The process that runs the Python driver.
pub fn spec(config: &KernelConfig) -> ProcessSpec {
    let mut env = config.env.clone();
    for (k, v) in [
        ("MPLBACKEND", "Agg"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONIOENCODING", "utf-8"),
    ] {
        if !env.iter().any(|(key, _)| key == k) {
            env.push((k.into(), v.into()));
        }
    }
    ProcessSpec {
        argv: vec![
            config.python.clone(),
            "-c".into(),
            PYTHON_BOOTSTRAP.into(),
            PYTHON_DRIVER.into(),
        ],
        env,
        cwd: config.cwd.clone(),
    }
}

super::driver::impl_kernel!(PythonKernel);
