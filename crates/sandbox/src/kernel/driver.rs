//! A driver process speaking frames, and the language-independent kernel logic built on it:
//! start-up handshake, running a cell, streaming, output caps, timeouts and restarts.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::time::{Instant, sleep_until};

use super::frame::{self, FrameReader};
use super::{
    EventSink, ExecError, ExecResult, Execution, KernelConfig, KernelError, KernelEvent, Language,
    MimeBundle, TimeoutOutcome,
};
use crate::launch::{Launch, ProcessControl, ProcessSpec};

/// Driver → host messages.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    Ready {
        #[serde(default)]
        pid: Option<u32>,
    },
    Unavailable {
        reason: String,
    },
    Stream {
        name: StreamName,
        text: String,
    },
    Result {
        data: MimeBundle,
        #[serde(default)]
        main: bool,
    },
    Done {
        #[serde(default)]
        error: Option<ExecError>,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StreamName {
    Stdout,
    Stderr,
}

/// Host → driver requests.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Request<'a> {
    Execute { code: &'a str },
}

/// How the driver left a cell.
enum End {
    /// The driver answered `done`.
    Done(Option<ExecError>),
    /// The driver's stdout closed: it exited.
    Died,
    /// It ignored the interrupt past the grace period and was killed.
    Killed,
}

/// A running driver process and our ends of its pipes.
#[derive(Debug)]
struct Process {
    stdin: pipe::Sender,
    frames: FrameReader<pipe::Receiver>,
    stderr: Option<pipe::Receiver>,
    stderr_carry: Vec<u8>,
    control: Box<dyn ProcessControl>,
    pid: Option<u32>,
    /// A request was sent and its `done` not read (the caller dropped the future).
    in_flight: bool,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Err(err) = self.control.kill() {
            tracing::debug!(%err, "killing a kernel driver failed");
        }
    }
}

const DIAG_LIMIT: usize = 16 << 10;

impl Process {
    async fn start(
        language: Language,
        launcher: &Arc<dyn Launch>,
        spec: &ProcessSpec,
        startup_timeout: Duration,
    ) -> Result<Process, KernelError> {
        let lang = language.as_str();
        let launch_err = |source| KernelError::Launch {
            language: lang,
            source,
        };
        let (launcher, spec) = (Arc::clone(launcher), spec.clone());
        let launched = tokio::task::spawn_blocking(move || launcher.launch(&spec))
            .await
            .map_err(|e| launch_err(io::Error::other(e)))?
            .map_err(launch_err)?;
        let control = launched.control;
        let pipes = (|| {
            Ok::<_, io::Error>((
                pipe::Sender::from_owned_fd(launched.stdin)?,
                pipe::Receiver::from_owned_fd(launched.stdout)?,
                pipe::Receiver::from_owned_fd(launched.stderr)?,
            ))
        })();
        let (stdin, stdout, stderr) = match pipes {
            Ok(p) => p,
            Err(e) => {
                let _ = control.kill();
                return Err(launch_err(e));
            }
        };
        let mut process = Process {
            stdin,
            frames: FrameReader::new(stdout),
            stderr: Some(stderr),
            stderr_carry: Vec::new(),
            control,
            pid: None,
            in_flight: false,
        };
        process.handshake(language, startup_timeout).await?;
        Ok(process)
    }

    /// Wait for `ready`, keeping the driver's early stderr for the error message.
    async fn handshake(
        &mut self,
        language: Language,
        timeout: Duration,
    ) -> Result<(), KernelError> {
        let lang = language.as_str();
        let deadline = after(timeout);
        let mut diag = Vec::new();
        let mut buf = Vec::with_capacity(4096);
        let start_err = |message: String, diag: &[u8]| {
            let diag = String::from_utf8_lossy(diag);
            let diag = diag.trim();
            KernelError::Start {
                language: lang,
                message: if diag.is_empty() {
                    message
                } else {
                    format!("{message}: {diag}")
                },
            }
        };
        loop {
            tokio::select! {
                frame = self.frames.next() => match frame {
                    Ok(Some(bytes)) => match serde_json::from_slice::<Message>(&bytes) {
                        Ok(Message::Ready { pid }) => {
                            self.pid = pid;
                            return Ok(());
                        }
                        Ok(Message::Unavailable { reason }) => {
                            return Err(KernelError::Unavailable { language: lang, reason });
                        }
                        Ok(_) => {}
                        Err(e) => return Err(start_err(format!("bad frame ({e})"), &diag)),
                    },
                    Ok(None) => {
                        // Let the last words on stderr arrive.
                        let _ = tokio::time::timeout(Duration::from_millis(200), async {
                            while let Ok(n) = read_opt(&mut self.stderr, &mut buf).await {
                                if n == 0 || diag.len() > DIAG_LIMIT { break; }
                                diag.extend_from_slice(&buf);
                                buf.clear();
                            }
                        }).await;
                        return Err(start_err("the driver exited before it was ready".into(), &diag));
                    }
                    Err(e) => return Err(start_err(format!("reading the driver failed ({e})"), &diag)),
                },
                n = read_opt(&mut self.stderr, &mut buf) => match n {
                    Ok(0) | Err(_) => self.stderr = None,
                    Ok(_) => {
                        if diag.len() < DIAG_LIMIT {
                            diag.extend_from_slice(&buf);
                        }
                        buf.clear();
                    }
                },
                () = sleep_until(deadline) => {
                    return Err(start_err(format!("not ready within {timeout:?}"), &diag));
                }
            }
        }
    }

    /// Run one cell. `Err` means the protocol broke; the caller drops the process.
    async fn run(
        &mut self,
        language: Language,
        code: &str,
        timeout: Duration,
        grace: Duration,
        out: &mut Collector<'_>,
    ) -> Result<End, KernelError> {
        let protocol = |message: String| KernelError::Protocol {
            language: language.as_str(),
            message,
        };
        let request = serde_json::to_vec(&Request::Execute { code })
            .map_err(|e| protocol(e.to_string()))
            .and_then(|body| frame::encode(&body).map_err(|e| protocol(e.to_string())))?;
        let deadline = after(timeout);
        self.in_flight = true;
        match tokio::time::timeout_at(deadline, self.stdin.write_all(&request)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(End::Died),
            Ok(Err(e)) => return Err(protocol(format!("writing the request failed ({e})"))),
            Err(_) => return Ok(End::Killed),
        }
        let mut interrupted: Option<Instant> = None;
        let mut buf = Vec::with_capacity(4096);
        loop {
            // Checked here too: a driver flooding output keeps the frame branch always ready.
            let timer = interrupted.map_or(deadline, |at| at.checked_add(grace).unwrap_or(at));
            if Instant::now() >= timer {
                if interrupted.is_some() {
                    return Ok(End::Killed);
                }
                if let Err(err) = self.control.interrupt() {
                    tracing::debug!(%err, "interrupting a kernel failed");
                }
                out.interrupted = true;
                interrupted = Some(Instant::now());
                continue;
            }
            tokio::select! {
                biased;
                frame = self.frames.next() => {
                    let bytes = match frame {
                        Ok(Some(bytes)) => bytes,
                        Ok(None) => {
                            self.drain_stderr(out);
                            return Ok(End::Died);
                        }
                        Err(e) => return Err(protocol(format!("reading the driver failed ({e})"))),
                    };
                    match serde_json::from_slice::<Message>(&bytes) {
                        Ok(Message::Stream { name: StreamName::Stdout, text }) => out.stdout(text),
                        Ok(Message::Stream { name: StreamName::Stderr, text }) => out.stderr(text),
                        Ok(Message::Result { data, main }) => out.result(ExecResult { data, is_main_result: main }),
                        Ok(Message::Done { error }) => {
                            self.in_flight = false;
                            self.drain_stderr(out);
                            return Ok(End::Done(error));
                        }
                        Ok(Message::Ready { .. } | Message::Unavailable { .. }) => {}
                        Err(e) => return Err(protocol(format!("bad frame ({e})"))),
                    }
                }
                n = read_opt(&mut self.stderr, &mut buf) => match n {
                    Ok(0) | Err(_) => self.stderr = None,
                    Ok(_) => {
                        let text = decode_utf8(&mut self.stderr_carry, &buf);
                        buf.clear();
                        if !text.is_empty() {
                            out.stderr(text);
                        }
                    }
                },
                () = sleep_until(timer) => {}
            }
        }
    }

    /// Read what the driver wrote to its raw stderr before its last frame.
    fn drain_stderr(&mut self, out: &mut Collector<'_>) {
        let Some(rx) = self.stderr.as_mut() else {
            return;
        };
        let mut buf = [0u8; 16 << 10];
        let mut bytes = Vec::new();
        loop {
            match rx.try_read(&mut buf) {
                Ok(0) => {
                    self.stderr = None;
                    break;
                }
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
            if bytes.len() > out.limit {
                break;
            }
        }
        if !bytes.is_empty() {
            let text = decode_utf8(&mut self.stderr_carry, &bytes);
            if !text.is_empty() {
                out.stderr(text);
            }
        }
    }

    /// A previous execution was abandoned mid-cell: interrupt it and skip to its `done`.
    async fn recover(&mut self, grace: Duration) -> bool {
        let _ = self.control.interrupt();
        let deadline = after(grace);
        loop {
            match tokio::time::timeout_at(deadline, self.frames.next()).await {
                Ok(Ok(Some(bytes))) => {
                    if let Ok(Message::Done { .. }) = serde_json::from_slice::<Message>(&bytes) {
                        self.in_flight = false;
                        let mut discard = Collector::new(usize::MAX, None);
                        self.drain_stderr(&mut discard);
                        return true;
                    }
                }
                _ => return false,
            }
        }
    }
}

/// `now + d`, capped at one year (tokio timers cannot go much further).
fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d.min(Duration::from_secs(365 * 86_400)))
        .unwrap_or(now)
}

async fn read_opt(rx: &mut Option<pipe::Receiver>, buf: &mut Vec<u8>) -> io::Result<usize> {
    match rx {
        Some(rx) => {
            buf.reserve(4096);
            rx.read_buf(buf).await
        }
        None => std::future::pending().await,
    }
}

/// Decode `new` after the incomplete UTF-8 sequence kept in `carry`, keeping any new one.
fn decode_utf8(carry: &mut Vec<u8>, new: &[u8]) -> String {
    carry.extend_from_slice(new);
    match std::str::from_utf8(carry) {
        Ok(s) => {
            let s = s.to_owned();
            carry.clear();
            s
        }
        Err(e) if e.error_len().is_none() => {
            let valid = e.valid_up_to();
            let s = String::from_utf8_lossy(&carry[..valid]).into_owned();
            carry.drain(..valid);
            s
        }
        Err(_) => {
            let s = String::from_utf8_lossy(carry).into_owned();
            carry.clear();
            s
        }
    }
}

/// Collects a cell's output, forwards it to the event sink and enforces the output cap.
struct Collector<'a> {
    exec: Execution,
    events: Option<&'a EventSink>,
    limit: usize,
    used: [usize; 2],
    truncated: [bool; 2],
    interrupted: bool,
}

impl<'a> Collector<'a> {
    fn new(limit: usize, events: Option<&'a EventSink>) -> Self {
        Collector {
            exec: Execution::default(),
            events,
            limit,
            used: [0; 2],
            truncated: [false; 2],
            interrupted: false,
        }
    }

    fn stdout(&mut self, text: String) {
        self.stream(0, text);
    }

    fn stderr(&mut self, text: String) {
        self.stream(1, text);
    }

    fn stream(&mut self, i: usize, mut text: String) {
        if self.truncated[i] || text.is_empty() {
            return;
        }
        let room = self.limit.saturating_sub(self.used[i]);
        let mut marker = None;
        if text.len() > room {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            self.truncated[i] = true;
            marker = Some(format!(
                "\n[output truncated: more than {} bytes]\n",
                self.limit
            ));
        }
        self.used[i] += text.len();
        for chunk in [Some(text), marker]
            .into_iter()
            .flatten()
            .filter(|c| !c.is_empty())
        {
            if let Some(sink) = self.events {
                let event = if i == 0 {
                    KernelEvent::Stdout(chunk.clone())
                } else {
                    KernelEvent::Stderr(chunk.clone())
                };
                let _ = sink.send(event);
            }
            if i == 0 {
                self.exec.stdout.push(chunk)
            } else {
                self.exec.stderr.push(chunk)
            }
        }
    }

    fn result(&mut self, result: ExecResult) {
        if let Some(sink) = self.events {
            let _ = sink.send(KernelEvent::Result(result.clone()));
        }
        self.exec.results.push(result);
    }

    fn finish(mut self, error: Option<ExecError>, count: u64, started: Instant) -> Execution {
        if let (Some(sink), Some(error)) = (self.events, &error) {
            let _ = sink.send(KernelEvent::Error(error.clone()));
        }
        self.exec.error = error;
        self.exec.execution_count = count;
        self.exec.execution_time = started.elapsed();
        self.exec
    }
}

/// The kernel logic shared by every framed driver; the language modules only build the
/// [`ProcessSpec`].
#[derive(Debug)]
pub(crate) struct DriverKernel {
    language: Language,
    launcher: Arc<dyn Launch>,
    spec: ProcessSpec,
    startup_timeout: Duration,
    grace: Duration,
    output_limit: usize,
    process: Option<Process>,
    count: u64,
}

impl DriverKernel {
    pub(crate) fn new(
        language: Language,
        launcher: Arc<dyn Launch>,
        spec: ProcessSpec,
        config: &KernelConfig,
    ) -> Self {
        DriverKernel {
            language,
            launcher,
            spec,
            startup_timeout: config.startup_timeout,
            grace: config.interrupt_grace,
            output_limit: config.output_limit,
            process: None,
            count: 0,
        }
    }

    pub(crate) fn language(&self) -> Language {
        self.language
    }

    pub(crate) fn is_running(&self) -> bool {
        self.process.is_some()
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(|p| p.pid)
    }

    pub(crate) fn shutdown(&mut self) {
        self.process = None;
    }

    pub(crate) async fn start(&mut self) -> Result<(), KernelError> {
        if let Some(p) = self.process.as_mut() {
            if !p.in_flight || p.recover(self.grace).await {
                return Ok(());
            }
            tracing::warn!(language = %self.language, "abandoned cell did not stop; restarting the kernel");
            self.process = None;
        }
        let process = Process::start(
            self.language,
            &self.launcher,
            &self.spec,
            self.startup_timeout,
        )
        .await?;
        self.process = Some(process);
        self.count = 0;
        Ok(())
    }

    pub(crate) async fn execute(
        &mut self,
        code: &str,
        timeout: Duration,
        events: Option<&EventSink>,
    ) -> Result<Execution, KernelError> {
        self.start().await?;
        let started = Instant::now();
        let lang = self.language.as_str();
        let Some(process) = self.process.as_mut() else {
            return Err(KernelError::Protocol {
                language: lang,
                message: "driver not running".into(),
            });
        };
        self.count += 1;
        let count = self.count;
        let mut out = Collector::new(self.output_limit, events);
        let end = process
            .run(self.language, code, timeout, self.grace, &mut out)
            .await;
        let error = match end {
            Ok(End::Done(error)) if out.interrupted && error.is_some() => {
                out.exec.timeout = Some(TimeoutOutcome::Interrupted);
                Some(ExecError {
                    name: "TimeoutError".into(),
                    value: format!(
                        "Execution timed out after {}; the cell was interrupted and the {lang} kernel kept its state",
                        secs(timeout)
                    ),
                    traceback: error.map(|e| e.traceback).unwrap_or_default(),
                })
            }
            Ok(End::Done(error)) => error,
            Ok(End::Died) => {
                self.process = None;
                Some(ExecError {
                    name: "KernelDied".into(),
                    value: format!(
                        "The {lang} kernel exited while running the cell (for example through os._exit() or \
                         process.exit()); its state was lost and a new kernel starts with the next execution"
                    ),
                    traceback: String::new(),
                })
            }
            Ok(End::Killed) => {
                self.process = None;
                out.exec.timeout = Some(TimeoutOutcome::Restarted);
                Some(ExecError {
                    name: "TimeoutError".into(),
                    value: format!(
                        "Execution timed out after {}; the {lang} kernel did not stop within {} of the interrupt, \
                         so it was killed: its state was lost and a new kernel starts with the next execution",
                        secs(timeout),
                        secs(self.grace)
                    ),
                    traceback: String::new(),
                })
            }
            Err(e) => {
                self.process = None;
                return Err(e);
            }
        };
        Ok(out.finish(error, count, started))
    }
}

/// `argv` that runs `program` with the frame protocol on fds 3 (requests) and 4 (messages),
/// fd 0 on `/dev/null`, and fds 1 and 2 both on the stderr pipe, so stray writes to the
/// standard fds (child processes) cannot corrupt the protocol and are reported as stderr.
pub(crate) fn protocol_on_fds_3_4(program: Vec<String>) -> Vec<String> {
    let mut argv: Vec<String> = ["sh", "-c", "exec \"$@\" 3<&0 4>&1 0</dev/null 1>&2", "sh"]
        .map(String::from)
        .into();
    argv.extend(program);
    argv
}

/// Implements [`Kernel`](super::Kernel) for a newtype around [`DriverKernel`].
macro_rules! impl_kernel {
    ($kernel:ty) => {
        impl $crate::kernel::Kernel for $kernel {
            fn language(&self) -> $crate::kernel::Language {
                self.0.language()
            }

            fn start(
                &mut self,
            ) -> $crate::kernel::BoxFuture<'_, Result<(), $crate::kernel::KernelError>> {
                Box::pin(self.0.start())
            }

            fn execute<'a>(
                &'a mut self,
                code: &'a str,
                timeout: std::time::Duration,
                events: Option<&'a $crate::kernel::EventSink>,
            ) -> $crate::kernel::BoxFuture<
                'a,
                Result<$crate::kernel::Execution, $crate::kernel::KernelError>,
            > {
                Box::pin(self.0.execute(code, timeout, events))
            }

            fn is_running(&self) -> bool {
                self.0.is_running()
            }

            fn pid(&self) -> Option<u32> {
                self.0.pid()
            }

            fn shutdown(&mut self) {
                self.0.shutdown();
            }
        }
    };
}
pub(crate) use impl_kernel;

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_do_not_overflow() {
        assert!(after(Duration::MAX) > Instant::now() + Duration::from_secs(86_400));
    }

    #[test]
    fn utf8_carry() {
        let mut carry = Vec::new();
        let bytes = "é€".as_bytes();
        assert_eq!(decode_utf8(&mut carry, &bytes[..1]), "");
        assert_eq!(decode_utf8(&mut carry, &bytes[1..3]), "é");
        assert_eq!(decode_utf8(&mut carry, &bytes[3..]), "€");
        assert!(carry.is_empty());
        assert_eq!(decode_utf8(&mut carry, b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn output_cap() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut out = Collector::new(5, Some(&tx));
        out.stdout("abc".into());
        out.stdout("défgh".into());
        out.stdout("more".into());
        out.stderr("ok".into());
        let exec = out.finish(None, 1, Instant::now());
        assert_eq!(exec.stdout[0], "abc");
        assert_eq!(exec.stdout[1], "d");
        assert!(exec.stdout[2].contains("output truncated"));
        assert_eq!(exec.stdout.len(), 3);
        assert_eq!(exec.stderr, ["ok"]);
        assert_eq!(rx.try_recv().unwrap(), KernelEvent::Stdout("abc".into()));
    }
}
