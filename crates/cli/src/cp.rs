//! `agb cp`: copy files and trees between this machine and a session.
//!
//! A remote side is written `:/abs/path` (in the session of `--session`, or a new one) or
//! `SESSION_ID:/abs/path`; anything else is local (write `./a:b` for a local name with a
//! colon). Without a session id, `cp` creates a session, copies, prints what it did and
//! deletes it: on the embedded engine a session lives as long as the command, so `cp` is
//! mostly for servers (`AGB_ENDPOINT`/`AGB_API_KEY`), where it moves files in and out of a
//! session that `agb sessions create` made.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agbcloud::files::{BatchReport, Progress, Transfer, TransferError, Transferred};
use agbcloud::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::run::with_client;

/// Copy files between this machine and a session (`:/abs/path` or `SESSION_ID:/abs/path`).
#[derive(Debug, clap::Args)]
pub(crate) struct CpArgs {
    /// Use this existing session (with AGB_ENDPOINT); `ID:/path` sets it too.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Copy directories recursively.
    #[arg(short, long)]
    recursive: bool,
    /// Files copied at once.
    #[arg(short = 'j', long, value_name = "N", default_value_t = agbcloud::files::DEFAULT_CONCURRENCY)]
    jobs: usize,
    /// Skip the SHA-256 check of each file.
    #[arg(long)]
    no_verify: bool,
    /// The source: a local path, `:/abs/path` or `SESSION_ID:/abs/path`.
    src: String,
    /// The destination: a local path, `:/abs/path` or `SESSION_ID:/abs/path`.
    dst: String,
}

/// One side of the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    Local(PathBuf),
    Remote {
        session: Option<String>,
        path: String,
    },
}

/// `ID:/path` or `:/path` is remote (the part before the colon has no `/`); the rest is local.
fn parse_side(arg: &str) -> Side {
    if let Some((id, path)) = arg.split_once(':')
        && !id.contains('/')
        && path.starts_with('/')
    {
        return Side::Remote {
            session: (!id.is_empty()).then(|| id.to_owned()),
            path: path.to_owned(),
        };
    }
    Side::Local(PathBuf::from(arg))
}

/// Which way the copy goes.
#[derive(Debug)]
enum Direction {
    Up { local: PathBuf, remote: String },
    Down { remote: String, local: PathBuf },
}

/// The direction and the session id, or a usage error.
fn plan(args: &CpArgs) -> Result<(Direction, Option<String>), String> {
    let (direction, id) = match (parse_side(&args.src), parse_side(&args.dst)) {
        (Side::Local(local), Side::Remote { session, path }) => (
            Direction::Up {
                local,
                remote: path,
            },
            session,
        ),
        (Side::Remote { session, path }, Side::Local(local)) => (
            Direction::Down {
                remote: path,
                local,
            },
            session,
        ),
        (Side::Local(_), Side::Local(_)) => {
            return Err("one side must be remote (`:/abs/path` or `ID:/abs/path`)".to_owned());
        }
        (Side::Remote { .. }, Side::Remote { .. }) => {
            return Err("one side must be local".to_owned());
        }
    };
    match (id, &args.session) {
        (Some(a), Some(b)) if &a != b => Err(format!("two sessions given: {a} and {b}")),
        (id, flag) => Ok((direction, id.or_else(|| flag.clone()))),
    }
}

/// Runs the copy; exits non-zero when any file failed.
pub(crate) fn run(args: CpArgs) -> ExitCode {
    let (direction, session_id) = match plan(&args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("agb cp: {message}");
            return ExitCode::from(2);
        }
    };
    let (recursive, jobs, verify) = (args.recursive, args.jobs, !args.no_verify);
    with_client("agb cp", |agb| async move {
        let in_session = |session: Session| async move {
            let bar = Bar::new();
            let transfer = Transfer::new(&session)
                .concurrency(jobs)
                .verify(verify)
                .on_progress({
                    let bar = bar.clone();
                    move |progress| bar.update(progress)
                });
            let outcome = copy(&transfer, &direction, recursive).await;
            bar.finish();
            Ok(report(outcome, matches!(direction, Direction::Up { .. })))
        };
        match session_id {
            Some(id) => in_session(agb.session(id)).await,
            None => agb.with_session(CreateParams::default(), in_session).await,
        }
    })
}

/// What a copy did: one file, or a tree.
enum Outcome {
    File(Result<Transferred, TransferError>),
    Tree(Result<BatchReport, TransferError>),
}

/// Prints what happened (`local -> :remote` up, `:remote -> local` down); the exit code.
fn report(outcome: Outcome, up: bool) -> ExitCode {
    let print = |file: &Transferred| {
        let (local, remote) = (file.local.display(), &file.remote);
        let (from, to) = if up {
            (local.to_string(), format!(":{remote}"))
        } else {
            (format!(":{remote}"), local.to_string())
        };
        println!(
            "{from} -> {to} ({} bytes{})",
            file.bytes,
            file.sha256
                .as_deref()
                .map(|sha| format!(", sha256 {sha}"))
                .unwrap_or_default()
        );
    };
    match outcome {
        Outcome::File(Ok(file)) => {
            print(&file);
            ExitCode::SUCCESS
        }
        Outcome::Tree(Ok(report)) => {
            report.succeeded().for_each(print);
            for (file, error) in report.failed() {
                eprintln!("agb cp: {}: {error}", file.local.display());
            }
            println!(
                "{} files, {} bytes copied; {} failed",
                report.succeeded().count(),
                report.bytes(),
                report.failed().count()
            );
            if report.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Outcome::File(Err(error)) | Outcome::Tree(Err(error)) => {
            eprintln!("agb cp: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Copies as `cp` does: into a destination that is an existing directory (or ends with `/`),
/// the source keeps its name; otherwise the destination is the new name.
async fn copy(transfer: &Transfer, direction: &Direction, recursive: bool) -> Outcome {
    match direction {
        Direction::Up { local, remote } => {
            let is_dir = local.is_dir();
            if is_dir && !recursive {
                return usage(format!("{} is a directory (use -r)", local.display()));
            }
            let into = remote.ends_with('/') || remote_is_dir(transfer, remote).await;
            let remote = match (into, local.file_name()) {
                (true, Some(name)) => format!(
                    "{}/{}",
                    remote.trim_end_matches('/'),
                    name.to_string_lossy()
                ),
                _ => remote.clone(),
            };
            if is_dir {
                Outcome::Tree(transfer.upload_dir(local, remote).await)
            } else {
                Outcome::File(transfer.upload(local, remote).await)
            }
        }
        Direction::Down { remote, local } => {
            let is_dir = remote_is_dir(transfer, remote).await;
            if is_dir && !recursive {
                return usage(format!(":{remote} is a directory (use -r)"));
            }
            let into = local.is_dir() || local.as_os_str().to_string_lossy().ends_with('/');
            let name = Path::new(remote.trim_end_matches('/')).file_name();
            let local = match (into, name) {
                (true, Some(name)) => local.join(name),
                _ => local.clone(),
            };
            if is_dir {
                Outcome::Tree(transfer.download_dir(remote, local).await)
            } else {
                Outcome::File(transfer.download(remote, local).await)
            }
        }
    }
}

fn usage(message: String) -> Outcome {
    Outcome::File(Err(TransferError::Local {
        path: PathBuf::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    }))
}

/// True when `remote` is an existing directory in the session.
async fn remote_is_dir(transfer: &Transfer, remote: &str) -> bool {
    matches!(transfer.session().fs().stat(remote).await, Ok(info) if info.is_directory)
}

/// A progress bar on stderr, shown only when stderr is a terminal and the copy lasts more
/// than a moment.
#[derive(Clone)]
struct Bar {
    state: Arc<Mutex<(Instant, Option<ProgressBar>)>>,
    enabled: bool,
}

/// How long a copy runs before its bar appears.
const BAR_DELAY: Duration = Duration::from_millis(500);

impl Bar {
    fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new((Instant::now(), None))),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    fn update(&self, progress: &Progress) {
        if !self.enabled {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (started, bar) = &mut *state;
        if bar.is_none() && started.elapsed() >= BAR_DELAY {
            let new = ProgressBar::new(progress.bytes_total);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta} {msg}",
            ) {
                new.set_style(style);
            }
            *bar = Some(new);
        }
        if let Some(bar) = bar {
            bar.set_position(progress.bytes_done);
            bar.set_message(format!(
                "{}/{} files {}",
                progress.files_done, progress.files_total, progress.path
            ));
        }
    }

    fn finish(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bar) = state.1.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_remote_with_a_colon_and_an_absolute_path() {
        let remote = |session: Option<&str>, path: &str| Side::Remote {
            session: session.map(str::to_owned),
            path: path.to_owned(),
        };
        assert_eq!(parse_side(":/tmp/x"), remote(None, "/tmp/x"));
        assert_eq!(parse_side("s-123:/tmp/x"), remote(Some("s-123"), "/tmp/x"));
        assert_eq!(parse_side("./a:/b"), Side::Local("./a:/b".into()));
        assert_eq!(parse_side("a:b"), Side::Local("a:b".into()));
        assert_eq!(parse_side("file.txt"), Side::Local("file.txt".into()));
    }
}
