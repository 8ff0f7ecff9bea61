//! `cargo xtask bench`.

use anyhow::{Result, bail};

pub(crate) fn run(_filters: &[&str]) -> Result<()> {
    bail!("not implemented yet")
}
