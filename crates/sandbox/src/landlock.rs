//! Landlock: read and execute everywhere, write only beneath the sandbox's scratch places.

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope, path_beneath_rules,
};

/// Directories where the sandbox may write.
const WRITABLE: &[&str] = &["/tmp", "/home/user", "/dev", "/proc"];

/// Restricts the calling process and its future children. Best effort on kernels with an
/// older ABI; an error means the kernel refused a supported request.
pub(crate) fn restrict() -> Result<&'static str, String> {
    let abi = ABI::V6;
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(WRITABLE, AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("landlock: {e}"))?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "full",
        RulesetStatus::PartiallyEnforced => "partial",
        RulesetStatus::NotEnforced => "none",
    })
}

/// The Landlock ABI version of the running kernel (0 when unavailable).
pub fn abi_version() -> i32 {
    crate::sys::fs::landlock_abi()
}
