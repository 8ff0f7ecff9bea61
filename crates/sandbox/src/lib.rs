//! Local isolation runtime for AGB sessions.
//!
//! Its one job: create and destroy isolated Linux sandboxes (namespaces, overlay root, cgroup
//! limits, seccomp) and run processes and stateful language kernels inside them.
//!
//! Start an [`Engine`], [`Engine::create`] a [`Sandbox`] from an [`Image`] and [`Limits`],
//! then [`Sandbox::exec`] commands, reach its [`files::Files`], or [`launch::Launch`]
//! long-lived processes (kernels) in it. Any binary linking this crate can host sandboxes:
//! the engine re-executes the current binary once, in a hidden zygote mode recognised before
//! `main`, and the zygote clones every sandbox.
//!
//! ```no_run
//! use agbcloud_sandbox::{CommandSpec, Engine, Image, Limits};
//!
//! # async fn demo() -> agbcloud_sandbox::Result<()> {
//! let engine = Engine::new()?; // reconciles leftovers of crashed runs
//! let sandbox = engine.create(&Image::standard(), &Limits::default()).await?;
//! let out = sandbox.exec(CommandSpec::new("echo hi > /tmp/x; cat /tmp/x")).await?;
//! assert_eq!(out.stdout, b"hi\n");
//! assert_eq!(sandbox.files()?.read("/tmp/x", 0, None)?, b"hi\n");
//! sandbox.destroy().await?;
//! # Ok(()) }
//! ```
//!
//! Isolation: mount, pid, net, ipc and uts namespaces (plus a user namespace when not root),
//! a tmpfs root with overlays of the image's host directories and a private size-capped
//! upper layer, a per-sandbox uid, `no_new_privs`, Landlock and a seccomp deny-list, cgroup
//! limits (v1 or v2). `agb doctor` ([`doctor::probe`]) tells what this host supports.

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
