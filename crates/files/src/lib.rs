//! File transfer for AGB sessions.
//!
//! Its one job: move files in and out of sessions, in parallel batches and in bounded memory.
//!
//! - [`Transfer`] over a [`Session`](agbcloud_session::Session):
//!   [`upload`](Transfer::upload)/[`download`](Transfer::download) of single files of any
//!   size, [`upload_many`](Transfer::upload_many)/[`download_many`](Transfer::download_many)
//!   batches with bounded parallelism and per-file outcomes ([`BatchReport`]), and
//!   [`upload_dir`](Transfer::upload_dir)/[`download_dir`](Transfer::download_dir) for trees.
//! - Bounded memory: uploads stream the local file in chunks, each written with `write_file`
//!   as soon as it is read, the first replacing and the rest appending (text as text; other
//!   files base64-encoded into a hidden staging file beside the destination, decoded in
//!   place by one `base64 -d` at the end); downloads read 384 KiB ranges inside the sandbox,
//!   four at a time, and write each to disk as it arrives (into `name.agb-part`, renamed
//!   when complete). A failed upload may leave a partial remote file.
//! - Integrity: SHA-256 streamed locally and `sha256sum` in the sandbox, on by default; a
//!   difference is [`TransferError::ChecksumMismatch`] naming the file.
//! - Progress: throttled [`Progress`] events through [`Transfer::on_progress`].
//! - Errors: [`TransferError`] names the path involved; a relative remote path is refused
//!   before any IO.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod checksum;
mod download;
mod error;
mod progress;
mod remote;
mod report;
mod transfer;
mod tree;
mod upload;

pub use agbcloud_wire::SandboxPath;
pub use error::{Result, TransferError};
pub use progress::{PROGRESS_STEP, Progress, ProgressFn};
pub use remote::IntoRemotePath;
pub use report::{BatchReport, FileOutcome, Transferred};
pub use transfer::{DEFAULT_CONCURRENCY, Transfer};
pub use tree::Symlinks;
