//! AGB sessions.
//!
//! Its one job: the session lifecycle and the tools that act inside a session (code, commands,
//! file system), with guards, pools, a result cache and a code policy.
