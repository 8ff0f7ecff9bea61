//! Shell commands: `session.command().exec(cmd)`.

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::shell::{ShellArgs, parse_shell_result};

use crate::error::{Error, Result};
use crate::session::Session;

/// Default time limit of a command inside the sandbox.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A finished command. A non-zero exit code is data here, not an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CommandOutput {
    /// The exit code (`None` if the server did not report one).
    pub exit_code: Option<i64>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Trace id, for support.
    pub trace_id: String,
    /// The server's message when the command failed (timeout, spawn failure, non-zero exit).
    pub error_message: String,
    /// The server's request id.
    pub request_id: Option<String>,
}

impl CommandOutput {
    /// True when the exit code is 0 (or, with no exit code reported, when no error was).
    pub fn success(&self) -> bool {
        self.exit_code
            .map_or(self.error_message.is_empty(), |code| code == 0)
    }

    /// Standard output followed by standard error (the official SDK's `output`).
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl agbcloud_transport::ProvideRequestId for CommandOutput {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// Shell commands in one session.
#[derive(Debug, Clone, Copy)]
pub struct Command<'s> {
    session: &'s Session,
}

impl<'s> Command<'s> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Self { session }
    }

    /// Runs `command` with `sh -c` in a fresh shell. Await the returned builder, or set
    /// options on it first.
    pub fn exec(&self, command: impl Into<String>) -> Exec<'s> {
        Exec {
            session: self.session,
            command: command.into(),
            cwd: None,
            envs: BTreeMap::new(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }
}

/// A pending `shell` call: set options, then `.await` it.
#[derive(Debug)]
#[must_use = "an Exec does nothing until awaited"]
pub struct Exec<'s> {
    session: &'s Session,
    command: String,
    cwd: Option<String>,
    envs: BTreeMap<String, String>,
    timeout: Duration,
}

impl<'s> Exec<'s> {
    /// The working directory for this call (an absolute sandbox path).
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Adds an environment variable for this call.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.envs.insert(key.into(), value.into());
        self
    }

    /// Kills the command after `timeout` (default [`DEFAULT_COMMAND_TIMEOUT`]). The HTTP call
    /// is bounded by this plus the client's margin.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn execute(self) -> Result<CommandOutput> {
        let cwd = self
            .cwd
            .map(|cwd| SandboxPath::parse(&cwd).map(SandboxPath::into_string))
            .transpose()?;
        if self.command.trim().is_empty() {
            return Err(Error::invalid("command is empty"));
        }
        let timeout_ms = u64::try_from(self.timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let args = ShellArgs {
            command: self.command,
            timeout_ms: Some(timeout_ms),
            cwd,
            envs: (!self.envs.is_empty()).then_some(self.envs),
        };
        let agb = self.session.agb();
        let limit = self.timeout + agb.options().timeout_margin;
        let reply = agb.call_tool(self.session.id(), &args, Some(limit)).await?;
        let outcome = parse_shell_result(&reply.text, reply.is_error);
        Ok(CommandOutput {
            exit_code: outcome.exit_code,
            stdout: outcome.stdout,
            stderr: outcome.stderr,
            trace_id: outcome.trace_id,
            error_message: outcome.error_message,
            request_id: reply.request_id,
        })
    }
}

impl<'s> IntoFuture for Exec<'s> {
    type Output = Result<CommandOutput>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<CommandOutput>> + Send + 's>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// Quotes `text` as one word for `sh`, in single quotes: `it's` becomes `'it'\''s'`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod quote_tests {
    use super::shell_quote;

    #[test]
    fn quotes_are_one_word_for_sh() {
        for text in ["plain", "it's", "a b", "$(rm -rf /)", "'", ""] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf '%s' {}", shell_quote(text))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
        }
    }
}
