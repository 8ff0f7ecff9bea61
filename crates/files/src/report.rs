//! What a transfer reports: one [`Transferred`] per file, and per-file outcomes of a batch.

use std::path::PathBuf;

use agbcloud_wire::SandboxPath;

use crate::error::TransferError;

/// A file moved (and, unless verification was off, checked).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transferred {
    /// The local file.
    pub local: PathBuf,
    /// The remote file.
    pub remote: SandboxPath,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256 (lower-case hex), equal on both sides; `None` when verification was off.
    pub sha256: Option<String>,
}

/// One file of a batch: where it was going, and how it went.
#[derive(Debug)]
#[non_exhaustive]
pub struct FileOutcome {
    /// The local path, as given.
    pub local: PathBuf,
    /// The remote path, as given (it may be invalid).
    pub remote: String,
    /// The transfer, or why it failed.
    pub result: Result<Transferred, TransferError>,
}

/// The outcome of every file of a batch, in the order given. One failure does not stop the
/// others.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BatchReport {
    /// One outcome per file, in the order given.
    pub files: Vec<FileOutcome>,
}

impl BatchReport {
    /// True when every file was transferred.
    pub fn is_success(&self) -> bool {
        self.files.iter().all(|file| file.result.is_ok())
    }

    /// The files transferred.
    pub fn succeeded(&self) -> impl Iterator<Item = &Transferred> {
        self.files
            .iter()
            .filter_map(|file| file.result.as_ref().ok())
    }

    /// The files that failed, with their errors.
    pub fn failed(&self) -> impl Iterator<Item = (&FileOutcome, &TransferError)> {
        self.files
            .iter()
            .filter_map(|file| file.result.as_ref().err().map(|error| (file, error)))
    }

    /// Bytes transferred, all successful files together.
    pub fn bytes(&self) -> u64 {
        self.succeeded().map(|file| file.bytes).sum()
    }
}
