//! SHA-256 on both sides: streamed over the local file, `sha256sum` inside the sandbox.

use std::path::Path;
use std::time::Duration;

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::error::{Result, TransferError};
use agbcloud_session::shell_quote;

/// Time limit of `sha256sum` in the sandbox (it reads the whole file).
const REMOTE_HASH_TIMEOUT: Duration = Duration::from_secs(600);

/// Bytes read per step when hashing a local file.
const HASH_BUFFER: usize = 64 * 1024;

/// Lower-case hex of a finished digest.
pub(crate) fn hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The SHA-256 of a local file, read in 64 KiB steps.
pub(crate) async fn local_sha256(path: &Path) -> Result<String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(TransferError::local(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; HASH_BUFFER];
    loop {
        let read = file
            .read(&mut buffer)
            .await
            .map_err(TransferError::local(path))?;
        if read == 0 {
            return Ok(hex(hasher));
        }
        hasher.update(&buffer[..read]);
    }
}

/// The SHA-256 of a remote file, from `sha256sum` in the sandbox.
pub(crate) async fn remote_sha256(session: &Session, path: &SandboxPath) -> Result<String> {
    let output = session
        .command()
        .exec(format!("sha256sum -- {}", shell_quote(path.as_str())))
        .timeout(REMOTE_HASH_TIMEOUT)
        .await
        .map_err(TransferError::session(path))?;
    let digest = output.stdout.split_whitespace().next().unwrap_or_default();
    if !output.success() || digest.len() != 64 {
        return Err(TransferError::Remote {
            path: path.to_string(),
            message: format!("sha256sum failed: {}", output.output().trim()),
            request_id: output.request_id,
        });
    }
    Ok(digest.to_ascii_lowercase())
}

/// Compares two digests; a difference is [`TransferError::ChecksumMismatch`].
pub(crate) fn compare(
    local: &Path,
    remote: &SandboxPath,
    local_sha256: String,
    remote_sha256: String,
) -> Result<String> {
    if local_sha256 == remote_sha256 {
        return Ok(local_sha256);
    }
    Err(TransferError::ChecksumMismatch {
        local: local.to_owned(),
        remote: remote.to_string(),
        local_sha256,
        remote_sha256,
    })
}
