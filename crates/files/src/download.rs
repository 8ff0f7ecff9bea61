//! One file down: byte ranges read in parallel inside the sandbox (`tail -c | head -c |
//! base64`), written to disk in order as they arrive, so memory stays bounded by the ranges
//! in flight. The file is written next to its destination (`.agb-part`) and renamed into
//! place when complete and verified.

use std::path::{Path, PathBuf};

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;
use agbcloud_wire::tools::fs::decode_binary;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::checksum::{compare, hex, remote_sha256};
use crate::error::{Result, TransferError};
use crate::progress::Tracker;
use crate::report::Transferred;
use agbcloud_session::shell_quote;

/// Bytes per range read by default (512 KiB of base64 on the wire).
pub(crate) const DEFAULT_RANGE: u64 = 384 * 1024;

/// Range reads of one file in flight at once (memory: about 2.4 times this many ranges).
const RANGES_IN_FLIGHT: usize = 4;

/// The size of a remote regular file; a directory is refused.
pub(crate) async fn remote_size(session: &Session, remote: &SandboxPath) -> Result<u64> {
    let info = session
        .fs()
        .stat(remote)
        .await
        .map_err(TransferError::session(remote))?;
    if info.is_directory {
        return Err(TransferError::Remote {
            path: remote.to_string(),
            message: "is a directory".to_owned(),
            request_id: None,
        });
    }
    Ok(info.size)
}

/// Downloads `remote` (of `size` bytes) to `local` in ranges of `range` bytes, creating its
/// parent directories.
pub(crate) async fn download_file(
    session: &Session,
    remote: &SandboxPath,
    size: u64,
    range: u64,
    local: &Path,
    verify: bool,
    tracker: &Tracker,
) -> Result<Transferred> {
    if let Some(parent) = local.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(TransferError::local(parent))?;
    }
    let part = part_path(local);
    let written = write_ranges(session, remote, size, range, &part, tracker).await;
    let finished = match written {
        Ok(hasher) if verify => match remote_sha256(session, remote).await {
            Ok(remote_digest) => compare(local, remote, hex(hasher), remote_digest).map(Some),
            Err(error) => Err(error),
        },
        Ok(_) => Ok(None),
        Err(error) => Err(error),
    };
    let sha256 = match finished {
        Ok(sha256) => sha256,
        Err(error) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(error);
        }
    };
    tokio::fs::rename(&part, local)
        .await
        .map_err(TransferError::local(local))?;
    Ok(Transferred {
        local: local.to_owned(),
        remote: remote.clone(),
        bytes: size,
        sha256,
    })
}

/// `dir/name.agb-part`.
fn part_path(local: &Path) -> PathBuf {
    let mut name = local.file_name().unwrap_or_default().to_owned();
    name.push(".agb-part");
    local.with_file_name(name)
}

/// Reads every range and writes it to `part`; the digest of what was written.
async fn write_ranges(
    session: &Session,
    remote: &SandboxPath,
    size: u64,
    range: u64,
    part: &Path,
    tracker: &Tracker,
) -> Result<Sha256> {
    let mut file = tokio::fs::File::create(part)
        .await
        .map_err(TransferError::local(part))?;
    let mut hasher = Sha256::new();
    let ranges = (0..size)
        .step_by(usize::try_from(range).unwrap_or(usize::MAX))
        .map(|offset| (offset, range.min(size - offset)));
    let mut reads = futures_util::stream::iter(ranges)
        .map(|(offset, length)| read_range(session, remote, offset, length))
        .buffered(RANGES_IN_FLIGHT);
    while let Some(bytes) = reads.next().await {
        let bytes = bytes?;
        file.write_all(&bytes)
            .await
            .map_err(TransferError::local(part))?;
        hasher.update(&bytes);
        tracker.advance(remote.as_str(), bytes.len() as u64);
    }
    file.flush().await.map_err(TransferError::local(part))?;
    Ok(hasher)
}

/// `length` bytes of `remote` from `offset`.
async fn read_range(
    session: &Session,
    remote: &SandboxPath,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>> {
    let output = session
        .command()
        .exec(format!(
            "tail -c +{} -- {} | head -c {length} | base64 -w 0",
            offset + 1,
            shell_quote(remote.as_str())
        ))
        .await
        .map_err(TransferError::session(remote))?;
    let failed = |message: String| TransferError::Remote {
        path: remote.to_string(),
        message,
        request_id: output.request_id.clone(),
    };
    if !output.success() {
        return Err(failed(format!(
            "range read at {offset} failed: {}",
            output.stderr.trim()
        )));
    }
    let bytes = decode_binary(output.stdout.trim()).map_err(|error| {
        failed(format!(
            "range read at {offset}: {error} (output capped? lower Transfer::download_range)"
        ))
    })?;
    if bytes.len() as u64 != length {
        return Err(failed(format!(
            "range read at {offset}: {} bytes instead of {length} (file changed, or output capped: lower Transfer::download_range)",
            bytes.len()
        )));
    }
    Ok(bytes)
}
