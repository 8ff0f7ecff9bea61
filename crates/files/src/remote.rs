//! Remote paths: anything that names an absolute sandbox path, validated before any IO.

use agbcloud_wire::SandboxPath;

use crate::error::{Result, TransferError};

/// A remote path argument: a `&str`/`String` (validated) or a [`SandboxPath`].
pub trait IntoRemotePath {
    /// The validated path, or [`TransferError::InvalidRemotePath`].
    fn into_remote_path(self) -> Result<SandboxPath>;
}

impl IntoRemotePath for SandboxPath {
    fn into_remote_path(self) -> Result<SandboxPath> {
        Ok(self)
    }
}

impl IntoRemotePath for &SandboxPath {
    fn into_remote_path(self) -> Result<SandboxPath> {
        Ok(self.clone())
    }
}

impl IntoRemotePath for &str {
    fn into_remote_path(self) -> Result<SandboxPath> {
        SandboxPath::parse(self).map_err(|source| TransferError::InvalidRemotePath {
            path: self.to_owned(),
            source,
        })
    }
}

impl IntoRemotePath for String {
    fn into_remote_path(self) -> Result<SandboxPath> {
        self.as_str().into_remote_path()
    }
}

impl IntoRemotePath for &String {
    fn into_remote_path(self) -> Result<SandboxPath> {
        self.as_str().into_remote_path()
    }
}
