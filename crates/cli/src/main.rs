//! The `agb` command-line tool.

mod cp;
mod doctor;
mod exec;
mod run;
mod sandbox;
mod serve;
mod sessions;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run code, commands and files in AGB sandboxes, locally or in the cloud.
#[derive(Debug, Parser)]
#[command(name = "agb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the AGB API over the local sandbox engine.
    Serve(serve::ServeArgs),
    /// Work with local sandboxes directly.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
    /// Report which isolation features this host has, and which are missing.
    Doctor,
    /// Run code in a session and print stdout, stderr and the result.
    Run(run::RunArgs),
    /// Run a shell command in a session; exits with its exit code.
    Exec(exec::ExecArgs),
    /// Create, list, inspect and delete sessions.
    Sessions(sessions::SessionsArgs),
    /// Copy files and directories between this machine and a session.
    Cp(cp::CpArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Sandbox(cmd) => sandbox::run(cmd),
        Command::Doctor => doctor::run(),
        Command::Run(args) => run::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Sessions(args) => sessions::run(args),
        Command::Cp(args) => cp::run(args),
    }
}
