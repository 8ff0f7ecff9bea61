//! Local isolation runtime for AGB sessions.
//!
//! Its one job: create and destroy isolated Linux sandboxes (namespaces, overlay root, cgroup
//! limits, seccomp) and run processes and stateful language kernels inside them.
//!
//! Start an [`Engine`], [`Engine::create`] a [`Sandbox`] from an [`Image`] and [`Limits`],
//! then [`Sandbox::exec`] commands, reach its [`files::Files`], or [`launch::Launch`]
//! long-lived processes (kernels) in it. Any binary linking this crate can host sandboxes:
//! the engine re-executes the current binary in a hidden init mode recognised before `main`.

pub mod cgroup;
pub mod doctor;
mod error;
mod exec;
pub mod files;
pub mod host;
mod image;
mod init;
pub mod kernel;
mod landlock;
pub mod launch;
mod limits;
mod mounts;
mod pool;
mod proto;
mod runtime;
mod sandbox;
mod seccomp;
mod supervisor;
mod sys;
mod zygote;

pub use error::{Result, SandboxError};
pub use exec::{
    CommandOutput, CommandSpec, DEFAULT_OUTPUT_LIMIT, DEFAULT_PATH, ExitStatus, OutputChunk,
    Stream, base_env,
};
pub use image::Image;
pub use landlock::abi_version as landlock_abi;
pub use limits::{Limits, parse_size};
pub use pool::{Pool, PoolStats};
pub use runtime::{Engine, EngineConfig};
pub use sandbox::Sandbox;
