//! The JavaScript kernel: our own `vm`-context driver (`kernels/node_driver.js`) run with
//! `node -e`.

use std::sync::Arc;

use super::driver::{DriverKernel, impl_kernel, protocol_on_fds_3_4};
use super::{KernelConfig, Language};
use crate::launch::{Launch, ProcessSpec};

/// Source of the Node.js driver, embedded so nothing has to exist in the sandbox.
pub const NODE_DRIVER: &str = include_str!("../../kernels/node_driver.js");

/// A stateful JavaScript context: completion value of the last statement as the main result,
/// awaited promises, top-level `await`, and top-level `const`/`let`/`class` that a later cell
/// may declare again, as in a REPL.
#[derive(Debug)]
pub struct NodeKernel(DriverKernel);

impl NodeKernel {
    /// A kernel that starts `config.node` through `launcher` on first use.
    pub fn new(launcher: Arc<dyn Launch>, config: &KernelConfig) -> Self {
        NodeKernel(DriverKernel::new(
            Language::JavaScript,
            launcher,
            spec(config),
            config,
        ))
    }
}

/// The process that runs the Node.js driver. `--expose-internals` gives the driver Node's
/// bundled `acorn` parser, used to rewrite top-level declarations.
pub fn spec(config: &KernelConfig) -> ProcessSpec {
    let program = vec![
        config.node.clone(),
        "--expose-internals".into(),
        "--no-warnings".into(),
        "-e".into(),
        NODE_DRIVER.into(),
    ];
    ProcessSpec {
        argv: protocol_on_fds_3_4(program),
        env: config.env.clone(),
        cwd: config.cwd.clone(),
    }
}

impl_kernel!(NodeKernel);
