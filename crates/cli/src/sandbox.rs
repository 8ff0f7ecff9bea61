//! `agb sandbox exec`: one command in a fresh local sandbox.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use agbcloud_server::sandbox::{
    CommandSpec, Engine, Image, Limits, OutputChunk, Stream, parse_size,
};

/// Local sandbox commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SandboxCommand {
    /// Run one command in a fresh sandbox and exit with its status.
    Exec(ExecArgs),
}

/// Arguments of `agb sandbox exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExecArgs {
    /// Image id (every id maps to the default allow-list: /usr, /etc, /opt).
    #[arg(long, default_value = "default")]
    image: String,
    /// Memory limit, e.g. 256M.
    #[arg(long, value_parser = parse_bytes, default_value = "512M")]
    memory: u64,
    /// Maximum number of processes and threads.
    #[arg(long, default_value_t = 256)]
    pids: u64,
    /// CPU bandwidth in cores, e.g. 0.5.
    #[arg(long, default_value_t = 1.0)]
    cpu: f64,
    /// Size of the writable layer (/tmp, /home/user, upper dirs), e.g. 256M.
    #[arg(long, value_parser = parse_bytes, default_value = "256M")]
    disk: u64,
    /// Kill the command after this long, e.g. 10s, 500ms, 2m.
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Working directory inside the sandbox.
    #[arg(long, default_value = "/home/user")]
    cwd: String,
    /// The command and its arguments (after `--`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    parse_size(s).ok_or_else(|| format!("not a size: {s:?} (try 256M, 1G)"))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 10s, 500ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown duration unit in {s:?}")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// Quotes `arg` for `sh` unless it is plainly safe.
fn quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

pub(crate) fn run(cmd: SandboxCommand) -> ExitCode {
    let SandboxCommand::Exec(args) = cmd;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("agb sandbox exec: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(exec(args))
}

async fn exec(args: ExecArgs) -> ExitCode {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("agb sandbox exec: {e}");
            return ExitCode::from(125);
        }
    };
    if !engine.has_cgroups() {
        eprintln!(
            "agb sandbox exec: WARNING: no cgroups here, limits are rlimits only (see `agb doctor`)"
        );
    }
    let limits = Limits {
        memory: Some(args.memory),
        pids: Some(args.pids),
        cpu: Some(args.cpu),
        disk: args.disk,
        lifetime: None,
    };
    let sandbox = match engine.create(&Image::named(&args.image), &limits).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("agb sandbox exec: {e}");
            return ExitCode::from(125);
        }
    };
    let line = args
        .command
        .iter()
        .map(|a| quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut spec = CommandSpec::new(line).cwd(args.cwd);
    spec.timeout = args.timeout;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<OutputChunk>();
    let printer = tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            match chunk.stream {
                Stream::Stdout => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(&chunk.data).ok();
                    o.flush().ok();
                }
                Stream::Stderr => {
                    std::io::stderr().lock().write_all(&chunk.data).ok();
                }
            }
        }
    });
    let result = sandbox.exec_streaming(spec, tx).await;
    printer.await.ok();
    sandbox.destroy().await.ok();
    match result {
        Ok(out) => {
            if out.stdout_truncated || out.stderr_truncated {
                eprintln!("agb sandbox exec: output truncated");
            }
            if let Some(msg) = out.limit_error() {
                eprintln!("agb sandbox exec: {msg}");
            }
            let code = if out.timed_out { 124 } else { out.exit_code() };
            ExitCode::from(code.clamp(0, 255) as u8)
        }
        Err(e) => {
            eprintln!("agb sandbox exec: {e}");
            ExitCode::from(125)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_durations() {
        assert_eq!(quote("ls"), "ls");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5x").is_err());
    }
}
