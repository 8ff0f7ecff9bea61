//! `agb serve`: the AGB API over the local sandbox engine, for the official SDKs and ours.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use agbcloud_server::config::{parse_bytes, parse_duration};
use agbcloud_server::serve::{ServeOptions, serve_blocking};

/// Serve the AGB API on a local socket (point `AGB_ENDPOINT` at it).
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Accept any non-empty API key (each key is still its own tenant).
    #[arg(long)]
    dev: bool,
    /// An accepted API key (repeatable; also AGB_SERVER_API_KEYS, comma-separated).
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How often idle sessions are looked for, e.g. 10s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    reap_interval: Option<Duration>,
    /// Largest request body, e.g. 16MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    max_body: Option<usize>,
    /// Ready sandboxes kept per image, Python already started (0 turns the pool off).
    #[arg(long, value_name = "N")]
    warm_pool: Option<usize>,
}

/// Runs the server until SIGINT/SIGTERM.
pub(crate) fn run(args: ServeArgs) -> ExitCode {
    let options = ServeOptions {
        listen: Some(args.listen),
        dev: args.dev,
        api_keys: args.api_keys,
        config_file: args.config,
        reap_interval: args.reap_interval,
        max_body: args.max_body,
        warm_pool: args.warm_pool,
    };
    match serve_blocking(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("agb serve: {err}");
            ExitCode::FAILURE
        }
    }
}
