//! The one error type of file transfers: every variant names the file involved.

use std::path::PathBuf;

use agbcloud_wire::PathError;

/// Why a transfer of one file failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The remote path is not a valid sandbox path (relative, NUL, `..` above `/`); refused
    /// before any IO.
    #[error("invalid remote path {path:?}: {source}")]
    InvalidRemotePath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        #[source]
        source: PathError,
    },
    /// A session call failed for this remote path; the session error keeps its request id.
    #[error("{path}: {source}")]
    Session {
        /// The remote path.
        path: String,
        /// The session layer's error.
        #[source]
        source: agbcloud_session::Error,
    },
    /// A shell step inside the sandbox (a binary chunk, a range read, `sha256sum`) failed.
    #[error("{path}: {message}{}", rid(request_id))]
    Remote {
        /// The remote path.
        path: String,
        /// What went wrong, with the command's output.
        message: String,
        /// The server's request id.
        request_id: Option<String>,
    },
    /// Reading or writing the local file failed.
    #[error("{}: {source}", path.display())]
    Local {
        /// The local path.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The SHA-256 of the local file and of the remote file differ.
    #[error(
        "checksum mismatch for {remote} (local {}): local sha256 {local_sha256}, remote sha256 {remote_sha256}",
        local.display()
    )]
    ChecksumMismatch {
        /// The local file.
        local: PathBuf,
        /// The remote file.
        remote: String,
        /// Hex SHA-256 of the local file.
        local_sha256: String,
        /// Hex SHA-256 of the remote file.
        remote_sha256: String,
    },
}

impl TransferError {
    /// The remote path involved, when there is one.
    pub fn remote_path(&self) -> Option<&str> {
        match self {
            Self::InvalidRemotePath { path, .. }
            | Self::Session { path, .. }
            | Self::Remote { path, .. } => Some(path),
            Self::ChecksumMismatch { remote, .. } => Some(remote),
            Self::Local { .. } => None,
        }
    }

    /// The local path involved, when there is one.
    pub fn local_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Local { path, .. } => Some(path),
            Self::ChecksumMismatch { local, .. } => Some(local),
            _ => None,
        }
    }

    /// The server's request id, when the server answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Session { source, .. } => source.request_id(),
            Self::Remote { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn local(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Local { path, source }
    }

    pub(crate) fn session(path: &impl AsRef<str>) -> impl FnOnce(agbcloud_session::Error) -> Self {
        let path = path.as_ref().to_owned();
        move |source| Self::Session { path, source }
    }
}

impl agbcloud_transport::ProvideRequestId for TransferError {
    fn request_id(&self) -> Option<&str> {
        TransferError::request_id(self)
    }
}

fn rid(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

/// The result of one file's transfer.
pub type Result<T, E = TransferError> = std::result::Result<T, E>;
