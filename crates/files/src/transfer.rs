//! [`Transfer`]: single files, batches and trees, up and down, over one session.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use agbcloud_session::Session;
use agbcloud_wire::SandboxPath;
use futures_util::StreamExt;

use crate::checksum::{compare, local_sha256, remote_sha256};
use crate::download::{DEFAULT_RANGE, download_file, remote_size};
use crate::error::{Result, TransferError};
use crate::progress::{Progress, ProgressFn, Tracker};
use crate::remote::IntoRemotePath;
use crate::tree::{Symlinks, join, walk_local, walk_remote};

use crate::report::{BatchReport, FileOutcome, Transferred};

/// Files transferred at once in a batch, by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Moves files in and out of one session.
///
/// ```no_run
/// # async fn demo(session: &agbcloud_session::Session) -> Result<(), agbcloud_files::TransferError> {
/// use agbcloud_files::Transfer;
///
/// let transfer = Transfer::new(session).concurrency(4).on_progress(|p| {
///     eprintln!("{}/{} bytes, {}/{} files", p.bytes_done, p.bytes_total, p.files_done, p.files_total)
/// });
/// transfer.upload("data.bin", "/tmp/data.bin").await?;
/// let report = transfer.download_dir("/home/user/out", "out").await?;
/// for (file, error) in report.failed() {
///     eprintln!("{}: {error}", file.remote);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transfer {
    session: Session,
    concurrency: usize,
    verify: bool,
    symlinks: Symlinks,
    range: u64,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer")
            .field("session", &self.session.id())
            .field("concurrency", &self.concurrency)
            .field("verify", &self.verify)
            .field("symlinks", &self.symlinks)
            .field("range", &self.range)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// A remote directory already created during this operation (`mkdir -p` once per directory).
type Created = Mutex<HashSet<String>>;

impl Transfer {
    /// Transfers over `session`: 8 files at once, SHA-256 verification on, symlinks skipped,
    /// no progress callback.
    pub fn new(session: &Session) -> Self {
        Self {
            session: session.clone(),
            concurrency: DEFAULT_CONCURRENCY,
            verify: true,
            symlinks: Symlinks::Skip,
            range: DEFAULT_RANGE,
            progress: None,
        }
    }

    /// How many files of a batch move at once (at least 1).
    pub fn concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// Whether each file is checked with SHA-256 on both sides after it moved (on by default).
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// What directory uploads do with local symbolic links (skipped by default).
    pub fn symlinks(mut self, symlinks: Symlinks) -> Self {
        self.symlinks = symlinks;
        self
    }

    /// Bytes per range read of a download (384 KiB by default, 512 KiB of base64 in one
    /// command's output; at least 3 KiB). Lower it for a server that caps command output
    /// below that.
    pub fn download_range(mut self, bytes: u64) -> Self {
        self.range = bytes.max(3 * 1024);
        self
    }

    /// Calls `callback` as bytes move (throttled: see [`Progress`]).
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// The session transferred to and from.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Uploads one local file of any size to `remote` (its parent is created), streamed in
    /// chunks. An invalid remote path is refused before any IO.
    pub async fn upload(
        &self,
        local: impl AsRef<Path>,
        remote: impl IntoRemotePath,
    ) -> Result<Transferred> {
        let remote = remote.into_remote_path()?;
        let mut report = self.upload_many([(local.as_ref(), remote)]).await;
        single(&mut report)
    }

    /// Downloads one remote file of any size to `local` (its parent is created), written as
    /// the ranges arrive. An invalid remote path is refused before any IO.
    pub async fn download(
        &self,
        remote: impl IntoRemotePath,
        local: impl AsRef<Path>,
    ) -> Result<Transferred> {
        let remote = remote.into_remote_path()?;
        let mut report = self.download_many([(remote, local.as_ref())]).await;
        single(&mut report)
    }

    /// Uploads `(local, remote)` pairs, [`concurrency`](Self::concurrency) files at once;
    /// every file gets its outcome.
    pub async fn upload_many<L: AsRef<Path>, R: IntoRemotePath>(
        &self,
        files: impl IntoIterator<Item = (L, R)>,
    ) -> BatchReport {
        let jobs: Vec<(PathBuf, Result<SandboxPath>)> = files
            .into_iter()
            .map(|(local, remote)| (local.as_ref().to_owned(), remote.into_remote_path()))
            .collect();
        self.upload_jobs(jobs, &Created::default()).await
    }

    /// Downloads `(remote, local)` pairs, [`concurrency`](Self::concurrency) files at once;
    /// every file gets its outcome.
    pub async fn download_many<R: IntoRemotePath, L: AsRef<Path>>(
        &self,
        files: impl IntoIterator<Item = (R, L)>,
    ) -> BatchReport {
        let jobs: Vec<(PathBuf, Result<SandboxPath>)> = files
            .into_iter()
            .map(|(remote, local)| (local.as_ref().to_owned(), remote.into_remote_path()))
            .collect();
        self.download_jobs(jobs).await
    }

    /// Uploads the tree under `local_dir` to `remote_dir`: every directory is created (empty
    /// ones too), relative paths are kept, and symbolic links are skipped or followed as set
    /// by [`symlinks`](Self::symlinks). An `Err` means the walk or a directory failed; file
    /// failures are in the report.
    pub async fn upload_dir(
        &self,
        local_dir: impl AsRef<Path>,
        remote_dir: impl IntoRemotePath,
    ) -> Result<BatchReport> {
        let root = remote_dir.into_remote_path()?;
        let local_dir = local_dir.as_ref();
        let tree = walk_local(local_dir, self.symlinks).await?;
        let mut dirs = vec![root.clone()];
        for dir in &tree.dirs {
            dirs.push(join(&root, dir)?);
        }
        let created = Created::default();
        let made: Vec<Result<()>> = futures_util::stream::iter(dirs.clone())
            .map(|dir| self.mkdir(dir))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        made.into_iter().collect::<Result<()>>()?;
        created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(dirs.iter().map(|dir| dir.to_string()));
        let jobs = tree
            .files
            .iter()
            .map(|rel| (local_dir.join(rel), join(&root, rel)))
            .collect();
        Ok(self.upload_jobs(jobs, &created).await)
    }

    /// Downloads the tree under `remote_dir` (walked with `list_directory`) into `local_dir`:
    /// every directory is created (empty ones too) and relative paths are kept. Remote
    /// symbolic links are followed (the server lists them as what they point to); a link
    /// cycle ends the walk with an error after 32 levels. An `Err` means the walk or a local
    /// directory failed; file failures are in the report.
    pub async fn download_dir(
        &self,
        remote_dir: impl IntoRemotePath,
        local_dir: impl AsRef<Path>,
    ) -> Result<BatchReport> {
        let root = remote_dir.into_remote_path()?;
        let local_dir = local_dir.as_ref();
        let tree = walk_remote(&self.session, &root).await?;
        tokio::fs::create_dir_all(local_dir)
            .await
            .map_err(TransferError::local(local_dir))?;
        for dir in &tree.dirs {
            let path = local_dir.join(dir);
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(TransferError::local(path))?;
        }
        let jobs = tree
            .files
            .iter()
            .map(|rel| (local_dir.join(rel), join(&root, rel)))
            .collect();
        Ok(self.download_jobs(jobs).await)
    }

    /// Checks that `local` and `remote` have the same SHA-256 (computed on each side);
    /// returns it, or [`TransferError::ChecksumMismatch`].
    pub async fn verify_file(
        &self,
        local: impl AsRef<Path>,
        remote: impl IntoRemotePath,
    ) -> Result<String> {
        let remote = remote.into_remote_path()?;
        let local = local.as_ref();
        let (local_digest, remote_digest) = futures_util::future::try_join(
            local_sha256(local),
            remote_sha256(&self.session, &remote),
        )
        .await?;
        compare(local, &remote, local_digest, remote_digest)
    }

    async fn upload_jobs(
        &self,
        jobs: Vec<(PathBuf, Result<SandboxPath>)>,
        created: &Created,
    ) -> BatchReport {
        let mut total = 0;
        for (local, remote) in &jobs {
            if remote.is_ok()
                && let Ok(meta) = tokio::fs::metadata(local).await
            {
                total += meta.len();
            }
        }
        let tracker = Tracker::new(self.progress.clone(), total, jobs.len());
        let tracker = &tracker;
        self.run(jobs, tracker, |local, remote| async move {
            let remote = remote?;
            self.ensure_parent(&remote, created).await?;
            crate::upload::upload_file(&self.session, &local, &remote, self.verify, tracker).await
        })
        .await
    }

    async fn download_jobs(&self, jobs: Vec<(PathBuf, Result<SandboxPath>)>) -> BatchReport {
        // Sizes first, so that progress has its total from the start.
        let sized: Vec<(PathBuf, Result<(SandboxPath, u64)>)> = futures_util::stream::iter(jobs)
            .map(|(local, remote)| async move {
                let sized = match remote {
                    Ok(remote) => remote_size(&self.session, &remote)
                        .await
                        .map(|size| (remote, size)),
                    Err(error) => Err(error),
                };
                (local, sized)
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        let total = sized
            .iter()
            .filter_map(|(_, sized)| sized.as_ref().ok().map(|(_, size)| size))
            .sum();
        let tracker = Tracker::new(self.progress.clone(), total, sized.len());
        let tracker = &tracker;
        self.run(sized, tracker, |local, sized| async move {
            let (remote, size) = sized?;
            download_file(
                &self.session,
                &remote,
                size,
                self.range,
                &local,
                self.verify,
                tracker,
            )
            .await
        })
        .await
    }

    /// Runs `job` for each `(local, remote)` pair, `concurrency` at once, keeping the order;
    /// each file, failed or not, counts as finished for progress.
    async fn run<T, F, Fut>(
        &self,
        jobs: Vec<(PathBuf, Result<T>)>,
        tracker: &Tracker,
        job: F,
    ) -> BatchReport
    where
        T: RemoteName,
        F: Fn(PathBuf, Result<T>) -> Fut,
        Fut: Future<Output = Result<Transferred>>,
    {
        let job = &job;
        let mut files: Vec<(usize, FileOutcome)> =
            futures_util::stream::iter(jobs.into_iter().enumerate())
                .map(|(index, (local, remote))| async move {
                    let name = match &remote {
                        Ok(remote) => remote.remote_name().to_owned(),
                        Err(error) => error.remote_path().unwrap_or_default().to_owned(),
                    };
                    let result = job(local.clone(), remote).await;
                    tracker.finish(&name);
                    (
                        index,
                        FileOutcome {
                            local,
                            remote: name,
                            result,
                        },
                    )
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
        files.sort_by_key(|(index, _)| *index);
        BatchReport {
            files: files.into_iter().map(|(_, file)| file).collect(),
        }
    }

    /// `mkdir -p dir`.
    async fn mkdir(&self, dir: SandboxPath) -> Result<()> {
        self.session
            .fs()
            .mkdir(&dir)
            .await
            .map_err(TransferError::session(&dir))
    }

    /// Creates the parent of `remote` once per operation.
    async fn ensure_parent(&self, remote: &SandboxPath, created: &Created) -> Result<()> {
        let Some(parent) = remote.parent().filter(|parent| !parent.is_root()) else {
            return Ok(());
        };
        let known = created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(parent.as_str());
        if known {
            return Ok(());
        }
        self.session
            .fs()
            .mkdir(&parent)
            .await
            .map_err(TransferError::session(&parent))?;
        created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(parent.to_string());
        Ok(())
    }
}

/// The remote side of a job, for its outcome.
trait RemoteName {
    fn remote_name(&self) -> &str;
}

impl RemoteName for SandboxPath {
    fn remote_name(&self) -> &str {
        self.as_str()
    }
}

impl RemoteName for (SandboxPath, u64) {
    fn remote_name(&self) -> &str {
        self.0.as_str()
    }
}

/// The one outcome of a batch of one.
fn single(report: &mut BatchReport) -> Result<Transferred> {
    match report.files.pop() {
        Some(file) => file.result,
        None => Err(TransferError::Local {
            path: PathBuf::new(),
            source: std::io::Error::other("empty batch"),
        }),
    }
}
