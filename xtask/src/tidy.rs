//! `cargo xtask tidy`.

use anyhow::{Result, bail};

pub(crate) fn run() -> Result<()> {
    bail!("not implemented yet")
}
