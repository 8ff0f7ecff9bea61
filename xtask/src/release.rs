//! `cargo xtask release`.

use anyhow::{Result, bail};

pub(crate) fn run(_flag: bool) -> Result<()> {
    bail!("not implemented yet")
}
