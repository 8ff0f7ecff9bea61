//! Resource limits of one sandbox.

use std::time::Duration;

/// Resource limits of one sandbox. `None` means "no limit" for that resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Memory limit in bytes (cgroup `memory.max` / `memory.limit_in_bytes`, no swap).
    pub memory: Option<u64>,
    /// Maximum number of processes and threads.
    pub pids: Option<u64>,
    /// CPU bandwidth in cores (e.g. `0.5` = half a core).
    pub cpu: Option<f64>,
    /// Size cap of the writable layer: upper dirs, `/tmp`, `/home/user`, `/dev/shm` (bytes).
    pub disk: u64,
    /// Wall-clock lifetime; the sandbox is destroyed when it elapses.
    pub lifetime: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: Some(512 << 20),
            pids: Some(256),
            cpu: Some(1.0),
            disk: 256 << 20,
            lifetime: None,
        }
    }
}

/// Parses a byte size such as `256M`, `1G`, `512k` or `1048576`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = s[i..].to_ascii_lowercase();
            let mult: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => return None,
            };
            (&s[..i], mult)
        }
        None => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("42"), Some(42));
        assert_eq!(parse_size("x"), None);
    }
}
