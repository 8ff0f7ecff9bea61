//! One file up: the local file is read in 48 KiB chunks, each written as soon as it is read
//! (the first replacing the remote file, the rest appending), so memory stays bounded.
//!
//! A chunk that is UTF-8 text (with no NUL) goes through `write_file`; a character cut by the
//! chunk boundary is carried over to the next chunk. Other chunks are sent base64-encoded
//! through the shell (`base64 -d`), as `write_file` carries text.

use std::path::Path;

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::fs::encode_binary;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::checksum::{compare, hex, remote_sha256};
use crate::error::{Result, TransferError};
use crate::progress::Tracker;
use crate::remote::shell_quote;
use crate::report::Transferred;

/// Bytes read from the local file per write (base64 makes 64 KiB of them, within one shell
/// argument; as text, at most 49,152 characters: one `write_file` call).
pub(crate) const UPLOAD_CHUNK: usize = 48 * 1024;

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
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; UPLOAD_CHUNK];
    let mut filled = 0;
    let mut first = true;
    let mut total = 0u64;
    loop {
        let eof = fill(&mut file, &mut buffer, &mut filled, local).await?;
        if filled == 0 && !first {
            break;
        }
        let sent = send_chunk(session, remote, &buffer[..filled], eof, first).await?;
        first = false;
        hasher.update(&buffer[..sent]);
        total += sent as u64;
        tracker.advance(remote.as_str(), sent as u64);
        buffer.copy_within(sent..filled, 0);
        filled -= sent;
        if eof && filled == 0 {
            break;
        }
    }
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

/// Writes (the start of) `chunk`; returns how many bytes were sent (a text chunk may leave
/// the first bytes of a cut character for the next one).
async fn send_chunk(
    session: &Session,
    remote: &SandboxPath,
    chunk: &[u8],
    eof: bool,
    first: bool,
) -> Result<usize> {
    let text = match std::str::from_utf8(chunk) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() && !eof => {
            // A character cut by the chunk boundary: the valid prefix now, the rest later.
            std::str::from_utf8(&chunk[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => "",
    };
    if (!text.is_empty() || chunk.is_empty()) && !text.contains('\0') {
        let fs = session.fs();
        let written = if first {
            fs.write_text(remote, text).await
        } else {
            fs.append_text(remote, text).await
        };
        written.map_err(TransferError::session(remote))?;
        return Ok(text.len());
    }
    write_binary(session, remote, chunk, first).await?;
    Ok(chunk.len())
}

/// Writes bytes through the shell: `printf | base64 -d > file` (or `>>`).
async fn write_binary(
    session: &Session,
    remote: &SandboxPath,
    chunk: &[u8],
    first: bool,
) -> Result<()> {
    let redirect = if first { ">" } else { ">>" };
    let output = session
        .command()
        .exec(format!(
            "printf '%s' '{}' | base64 -d {redirect} {}",
            encode_binary(chunk),
            shell_quote(remote.as_str())
        ))
        .await
        .map_err(TransferError::session(remote))?;
    if output.success() {
        return Ok(());
    }
    Err(TransferError::Remote {
        path: remote.to_string(),
        message: format!("binary write failed: {}", output.output().trim()),
        request_id: output.request_id,
    })
}
