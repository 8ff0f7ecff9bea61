//! File transfer for AGB sessions.
//!
//! Its one job: move files in and out of sessions, in parallel batches and in bounded memory.
