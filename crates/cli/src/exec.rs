//! `agb exec`: run a shell command in a fresh session and exit with its exit code.

use std::process::ExitCode;
use std::time::Duration;

use agbcloud::prelude::*;

use crate::run::with_client;

/// Run a shell command in a new session (or an existing one); exits with its exit code.
#[derive(Debug, clap::Args)]
pub(crate) struct ExecArgs {
    /// Working directory (an absolute sandbox path).
    #[arg(long, value_name = "DIR")]
    cwd: Option<String>,
    /// An environment variable for the command (repeatable).
    #[arg(long = "env", short, value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Kill the command after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Run in this existing session instead of a new one (with AGB_ENDPOINT).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The command line, run with `sh -c` (several words are joined with spaces).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// Runs the command; the process exits with the command's exit code.
pub(crate) fn run(args: ExecArgs) -> ExitCode {
    let mut envs = Vec::new();
    for pair in &args.envs {
        match pair.split_once('=') {
            Some((key, value)) => envs.push((key.to_owned(), value.to_owned())),
            None => {
                eprintln!("agb exec: --env takes KEY=VALUE, got {pair:?}");
                return ExitCode::from(2);
            }
        }
    }
    let command = args.command.join(" ");
    with_client("agb exec", |agb| async move {
        let exec = |session: Session| {
            let command = command.clone();
            let cwd = args.cwd.clone();
            let envs = envs.clone();
            async move {
                let mut call = session
                    .command()
                    .exec(command)
                    .timeout(Duration::from_secs(args.timeout));
                if let Some(cwd) = cwd {
                    call = call.cwd(cwd);
                }
                for (key, value) in envs {
                    call = call.env(key, value);
                }
                call.await
            }
        };
        let output = match &args.session {
            Some(id) => exec(agb.session(id.clone())).await?,
            None => agb.with_session(CreateParams::default(), exec).await?,
        };
        print!("{}", output.stdout);
        eprint!("{}", output.stderr);
        Ok(match output.exit_code {
            Some(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
            None if output.success() => ExitCode::SUCCESS,
            None => {
                eprintln!("agb exec: {}", output.error_message);
                ExitCode::FAILURE
            }
        })
    })
}
