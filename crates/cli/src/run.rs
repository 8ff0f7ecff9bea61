//! `agb run`: run code in a fresh session and print its output.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use agbcloud::prelude::*;

/// Run code in a new session (or an existing one) and print stdout, stderr and the result.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Language: python, javascript, java or r (aliases: py, python3, js, node, nodejs).
    #[arg(long, short, default_value = "python")]
    lang: String,
    /// Execution timeout in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Run in this existing session instead of a new one (with AGB_ENDPOINT).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The code, or `-` to read it from standard input.
    code: String,
}

/// Runs the command; exits non-zero when the code fails or the call errs.
pub(crate) fn run(args: RunArgs) -> ExitCode {
    let code = if args.code == "-" {
        let mut code = String::new();
        if let Err(error) = std::io::stdin().read_to_string(&mut code) {
            eprintln!("agb run: cannot read standard input: {error}");
            return ExitCode::FAILURE;
        }
        code
    } else {
        args.code
    };
    with_client("agb run", |agb| async move {
        let run = |session: Session| {
            let code = code.clone();
            let lang = args.lang.clone();
            async move {
                // Output is printed as it arrives (live when the server streams).
                session
                    .code()
                    .run(code, lang)
                    .timeout(Duration::from_secs(args.timeout))
                    .on_stdout(|chunk| {
                        print!("{chunk}");
                        let _ = std::io::stdout().flush();
                    })
                    .on_stderr(|chunk| eprint!("{chunk}"))
                    .await
            }
        };
        let outcome = match &args.session {
            Some(id) => run(agb.session(id.clone())).await?,
            None => agb.with_session(CreateParams::default(), run).await?,
        };
        if let Some(text) = outcome
            .main_result()
            .and_then(|result| result.text.as_deref())
        {
            println!("{text}");
        }
        if outcome.success {
            Ok(ExitCode::SUCCESS)
        } else {
            if outcome.stderr().is_empty() || !outcome.stderr().contains(&outcome.error_message) {
                eprintln!("{}", outcome.error_message);
            }
            Ok(ExitCode::FAILURE)
        }
    })
}

/// Builds the client (environment, `.env`, else the embedded engine) on a fresh runtime, runs
/// `f` and reports its error as `<what>: <error>`.
pub(crate) fn with_client<F, Fut>(what: &str, f: F) -> ExitCode
where
    F: FnOnce(Agb) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode, Error>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{what}: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let agb = match Agb::builder().build() {
            Ok(agb) => agb,
            Err(error) => {
                eprintln!("{what}: {error}");
                return ExitCode::FAILURE;
            }
        };
        match f(agb).await {
            Ok(code) => code,
            Err(error) => {
                eprintln!("{what}: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
