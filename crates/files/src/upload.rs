//! One file up, in bounded memory: the local file is read in chunks, each written as soon as
//! it is read with `write_file` (the first replacing, the rest appending).
//!
//! - A file that starts as UTF-8 text goes up as text, 48 KiB at a time (at most 49,152
//!   characters: one `write_file` call); a character cut by a chunk boundary is carried over.
//!   A later chunk that is not text (or holds a NUL) is sent base64-encoded through the shell
//!   (`base64 -d >>`).
//! - Any other file goes up base64-encoded, 38,400 bytes (51,200 characters, a multiple of
//!   three bytes so the pieces concatenate) per `write_file`, into a hidden staging file
//!   beside the destination, decoded into place by one `base64 -d` at the end. This is
//!   several times faster than a shell call per chunk; the staging file is removed either way.

use std::io::SeekFrom;
use std::path::Path;
use std::time::Duration;

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::fs::encode_binary;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::checksum::{compare, hex, remote_sha256};
use crate::error::{Result, TransferError};
use crate::progress::Tracker;
use crate::report::Transferred;
use agbcloud_session::shell_quote;

/// Bytes read from a text file per write (base64 makes 64 KiB of them, within one shell
/// argument; as text, at most 49,152 characters: one `write_file` call).
pub(crate) const UPLOAD_CHUNK: usize = 48 * 1024;

/// Bytes of a binary file per `write_file` call: 51,200 base64 characters.
const STAGED_CHUNK: usize = 38_400;

/// Time limit of the final `base64 -d` of a staged upload.
const DECODE_TIMEOUT: Duration = Duration::from_secs(600);

/// Uploads `local` to `remote` (whose parent directory exists).
pub(crate) async fn upload_file(
    session: &Session,
    local: &Path,
    remote: &SandboxPath,
    verify: bool,
    tracker: &Tracker,
) -> Result<Transferred> {
    let mut file = tokio::fs::File::open(local)
        .await
        .map_err(TransferError::local(local))?;
    let mut buffer = vec![0u8; UPLOAD_CHUNK];
    let mut filled = 0;
    let eof = fill(&mut file, &mut buffer, &mut filled, local).await?;
    let up = Upload {
        session,
        remote,
        local,
        tracker,
    };
    let (total, hasher) = if text_prefix(&buffer[..filled], eof).is_some() {
        up.text(file, buffer, filled, eof).await?
    } else {
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(TransferError::local(local))?;
        up.staged(file).await?
    };
    let sha256 = if verify {
        let remote_digest = remote_sha256(session, remote).await?;
        Some(compare(local, remote, hex(hasher), remote_digest)?)
    } else {
        None
    };
    Ok(Transferred {
        local: local.to_owned(),
        remote: remote.clone(),
        bytes: total,
        sha256,
    })
}

/// The text to send from the start of `chunk`: all of it, or all but a character cut at its
/// end (before the end of the file); `None` when it is not text (or holds a NUL).
fn text_prefix(chunk: &[u8], eof: bool) -> Option<&str> {
    let text = match std::str::from_utf8(chunk) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() && !eof => {
            std::str::from_utf8(&chunk[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return None,
    };
    ((!text.is_empty() || chunk.is_empty()) && !text.contains('\0')).then_some(text)
}

/// One file's upload.
struct Upload<'a> {
    session: &'a Session,
    remote: &'a SandboxPath,
    local: &'a Path,
    tracker: &'a Tracker,
}

impl Upload<'_> {
    /// A file that starts as text: `buffer[..filled]` was read already.
    async fn text(
        &self,
        mut file: tokio::fs::File,
        mut buffer: Vec<u8>,
        mut filled: usize,
        mut eof: bool,
    ) -> Result<(u64, Sha256)> {
        let mut hasher = Sha256::new();
        let mut first = true;
        let mut total = 0u64;
        loop {
            let sent = self.send_chunk(&buffer[..filled], eof, first).await?;
            hasher.update(&buffer[..sent]);
            total += sent as u64;
            self.tracker.advance(self.remote.as_str(), sent as u64);
            buffer.copy_within(sent..filled, 0);
            filled -= sent;
            if eof && filled == 0 {
                return Ok((total, hasher));
            }
            first = false;
            eof = fill(&mut file, &mut buffer, &mut filled, self.local).await?;
            if eof && filled == 0 {
                return Ok((total, hasher));
            }
        }
    }

    /// Writes (the start of) `chunk`; returns how many bytes were sent (a text chunk may leave
    /// the first bytes of a cut character for the next one).
    async fn send_chunk(&self, chunk: &[u8], eof: bool, first: bool) -> Result<usize> {
        let Some(text) = text_prefix(chunk, eof) else {
            self.shell_append(chunk).await?;
            return Ok(chunk.len());
        };
        let fs = self.session.fs();
        let written = if first {
            fs.write_text(self.remote, text).await
        } else {
            fs.append_text(self.remote, text).await
        };
        written.map_err(TransferError::session(self.remote))?;
        Ok(text.len())
    }

    /// Appends bytes through the shell: `printf | base64 -d >> file`.
    async fn shell_append(&self, chunk: &[u8]) -> Result<()> {
        self.shell(
            format!(
                "printf '%s' '{}' | base64 -d >> {}",
                encode_binary(chunk),
                shell_quote(self.remote.as_str())
            ),
            None,
        )
        .await
    }

    /// Runs a shell step; a failure names the file.
    async fn shell(&self, command: String, timeout: Option<Duration>) -> Result<()> {
        let mut exec = self.session.command().exec(command);
        if let Some(timeout) = timeout {
            exec = exec.timeout(timeout);
        }
        let output = exec.await.map_err(TransferError::session(self.remote))?;
        if output.success() {
            return Ok(());
        }
        Err(TransferError::Remote {
            path: self.remote.to_string(),
            message: format!("binary write failed: {}", output.output().trim()),
            request_id: output.request_id,
        })
    }

    /// A binary file: base64 pieces appended to a staging file, decoded at the end.
    async fn staged(&self, file: tokio::fs::File) -> Result<(u64, Sha256)> {
        let name = self.remote.file_name().unwrap_or("upload");
        let staging = self
            .remote
            .parent()
            .unwrap_or_else(SandboxPath::root)
            .join(&format!(".{name}.agb-upload"))
            .map_err(|source| TransferError::InvalidRemotePath {
                path: self.remote.to_string(),
                source,
            })?;
        let result = self.stage(file, &staging).await;
        if result.is_err() {
            let _ = self.session.fs().remove(&staging).await;
        }
        result
    }

    async fn stage(
        &self,
        mut file: tokio::fs::File,
        staging: &SandboxPath,
    ) -> Result<(u64, Sha256)> {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; STAGED_CHUNK];
        let mut total = 0u64;
        let fs = self.session.fs();
        loop {
            let mut filled = 0;
            let eof = fill(&mut file, &mut buffer, &mut filled, self.local).await?;
            if filled > 0 {
                let piece = encode_binary(&buffer[..filled]);
                let written = if total == 0 {
                    fs.write_text(staging, &piece).await
                } else {
                    fs.append_text(staging, &piece).await
                };
                written.map_err(TransferError::session(self.remote))?;
                hasher.update(&buffer[..filled]);
                total += filled as u64;
                self.tracker.advance(self.remote.as_str(), filled as u64);
            }
            if eof {
                break;
            }
        }
        let (staging, remote) = (
            shell_quote(staging.as_str()),
            shell_quote(self.remote.as_str()),
        );
        self.shell(
            format!("base64 -d {staging} > {remote}; status=$?; rm -f {staging}; exit $status"),
            Some(DECODE_TIMEOUT),
        )
        .await?;
        Ok((total, hasher))
    }
}

/// Reads until the buffer is full or the file ends; true at the end of the file.
async fn fill(
    file: &mut tokio::fs::File,
    buffer: &mut [u8],
    filled: &mut usize,
    local: &Path,
) -> Result<bool> {
    while *filled < buffer.len() {
        let read = file
            .read(&mut buffer[*filled..])
            .await
            .map_err(TransferError::local(local))?;
        if read == 0 {
            return Ok(true);
        }
        *filled += read;
    }
    Ok(false)
}
