//! `agb sessions`: create, list, inspect and delete sessions.

use std::process::ExitCode;
use std::time::Duration;

use agbcloud::prelude::*;

use crate::run::with_client;

/// Manage sessions (most useful with AGB_ENDPOINT: embedded sessions end with the command).
#[derive(Debug, clap::Args)]
pub(crate) struct SessionsArgs {
    #[command(subcommand)]
    command: SessionsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SessionsCommand {
    /// Create a session and print its id.
    Create {
        /// The image id.
        #[arg(long, default_value = agbcloud::DEFAULT_IMAGE)]
        image: String,
        /// A label (repeatable).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Release the session after this many idle seconds.
        #[arg(long, value_name = "SECONDS")]
        idle_timeout: Option<u64>,
    },
    /// List sessions, optionally by label.
    Ls {
        /// A label filter (repeatable; all must match).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
    },
    /// Show a session's status, resource URL and labels.
    Info {
        /// The session id.
        id: String,
    },
    /// Delete sessions and wait until they are gone.
    Rm {
        /// The session ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

fn parse_labels(pairs: &[String]) -> Result<Vec<(String, String)>, Error> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .ok_or_else(|| Error::invalid(format!("a label is KEY=VALUE, got {pair:?}")))
        })
        .collect()
}

/// Runs the subcommand.
pub(crate) fn run(args: SessionsArgs) -> ExitCode {
    with_client("agb sessions", |agb| async move {
        match args.command {
            SessionsCommand::Create {
                image,
                labels,
                idle_timeout,
            } => {
                let mut params = CreateParams::new(image);
                for (key, value) in parse_labels(&labels)? {
                    params = params.label(key, value);
                }
                if let Some(seconds) = idle_timeout {
                    params = params.idle_release_timeout(Duration::from_secs(seconds));
                }
                let session = agb.create(params).await?;
                println!("{}", session.id());
                if std::env::var_os("AGB_ENDPOINT").is_none()
                    && std::env::var_os("AGB_API_KEY").is_none()
                {
                    eprintln!(
                        "note: embedded engine: this session ends with this command; set AGB_ENDPOINT to keep it"
                    );
                }
            }
            SessionsCommand::Ls { labels } => {
                let mut filter = ListFilter::all().page_size(50);
                for (key, value) in parse_labels(&labels)? {
                    filter = filter.label(key, value);
                }
                for summary in agb.list_all(filter).await? {
                    println!("{}\t{}", summary.session_id, summary.session_status);
                }
            }
            SessionsCommand::Info { id } => {
                let session = agb.session(id);
                println!("id\t{}", session.id());
                println!("status\t{}", session.status().await?);
                println!("resource\t{}", session.info().await?.resource_url);
                for (key, value) in session.labels().await? {
                    println!("label\t{key}={value}");
                }
            }
            SessionsCommand::Rm { ids } => {
                for id in ids {
                    agb.delete(&id).await?;
                    println!("deleted {id}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
