//! Local isolation runtime for AGB sessions.
//!
//! Its one job: create and destroy isolated Linux sandboxes (namespaces, overlay root, cgroup
//! limits, seccomp) and run processes and stateful language kernels inside them.

pub mod launch;
