//! The `agb` command-line tool.

use clap::Parser;

/// Run code, commands and files in AGB sandboxes, locally or in the cloud.
#[derive(Debug, Parser)]
#[command(name = "agb", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
