//! Progress events, throttled: at most one per [`PROGRESS_STEP`] bytes, plus one per finished
//! file.

use std::sync::{Arc, Mutex, PoisonError};

/// Bytes transferred between two progress events of the same operation (at least).
pub const PROGRESS_STEP: u64 = 1024 * 1024;

/// Where an operation (one file, a batch or a tree) stands.
///
/// Counters cover the whole operation and never decrease. `bytes_total` is the sum of the
/// sizes known when it started; a file that fails leaves `bytes_done` short of it, but
/// `files_done` (finished files, failed or not) always ends at `files_total`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The remote path of the file that moved.
    pub path: String,
    /// Bytes moved so far, all files together.
    pub bytes_done: u64,
    /// Bytes to move, all files together.
    pub bytes_total: u64,
    /// Files finished (succeeded or failed).
    pub files_done: usize,
    /// Files in the operation.
    pub files_total: usize,
}

/// A progress callback; called in order, from the transferring tasks: keep it quick.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Aggregates one operation's counters and throttles the events.
pub(crate) struct Tracker {
    callback: Option<ProgressFn>,
    state: Mutex<State>,
}

struct State {
    bytes_done: u64,
    bytes_total: u64,
    files_done: usize,
    files_total: usize,
    last_emitted: u64,
}

impl Tracker {
    pub(crate) fn new(callback: Option<ProgressFn>, bytes_total: u64, files_total: usize) -> Self {
        Self {
            callback,
            state: Mutex::new(State {
                bytes_done: 0,
                bytes_total,
                files_done: 0,
                files_total,
                last_emitted: 0,
            }),
        }
    }

    /// `bytes` more of `path` moved.
    pub(crate) fn advance(&self, path: &str, bytes: u64) {
        self.update(path, |state| {
            state.bytes_done += bytes;
            state.bytes_done - state.last_emitted >= PROGRESS_STEP
        });
    }

    /// `path` finished (succeeded or failed).
    pub(crate) fn finish(&self, path: &str) {
        self.update(path, |state| {
            state.files_done += 1;
            true
        });
    }

    fn update(&self, path: &str, change: impl FnOnce(&mut State) -> bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let emit = change(&mut state);
        if let (true, Some(callback)) = (emit, &self.callback) {
            state.last_emitted = state.bytes_done;
            callback(&Progress {
                path: path.to_owned(),
                bytes_done: state.bytes_done,
                bytes_total: state.bytes_total,
                files_done: state.files_done,
                files_total: state.files_total,
            });
        }
    }
}
