//! `cargo xtask codegen`.

use anyhow::{Result, bail};

#[allow(dead_code)]
pub(crate) fn run<T>(_arg: T) -> Result<()> {
    bail!("not implemented yet")
}
