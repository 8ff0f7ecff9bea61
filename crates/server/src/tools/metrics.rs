//! `get_metrics`: CPU, memory and disk use of the session's sandbox.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use agbcloud_wire::tools::ToolCallData;
use agbcloud_wire::tools::metrics::Metrics;

use crate::registry::Session;

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time of the sandbox's processes, in microseconds.
fn cpu_micros(session: &Session) -> u64 {
    session
        .sandbox
        .pids()
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may contain spaces) start after ") ".
            let rest = stat.rsplit_once(") ")?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) * 1_000_000 / TICKS_PER_SECOND)
        })
        .sum()
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(0, |kib| kib * 1024)
}

/// The filesystem of the sandbox's home: `(total, used)` bytes.
fn disk(session: &Session) -> Option<(u64, u64)> {
    let path = format!("/proc/{}/root/home/user", session.sandbox.init_pid());
    let stat = rustix::fs::statvfs(path.as_str()).ok()?;
    let total = stat.f_blocks.saturating_mul(stat.f_frsize);
    let free = stat.f_bfree.saturating_mul(stat.f_frsize);
    Some((total, total.saturating_sub(free)))
}

/// `2026-01-10T08:00:00Z` for `time`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Cumulative counters of a session at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    at: Instant,
    cpu_micros: u64,
    rx_bytes: u64,
    tx_bytes: u64,
}

/// Bytes received and sent on every interface of the sandbox's network namespace.
fn net_bytes(session: &Session) -> (u64, u64) {
    let path = format!("/proc/{}/net/dev", session.sandbox.init_pid());
    let Ok(text) = std::fs::read_to_string(path) else {
        return (0, 0);
    };
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_once(':')?.1.split_whitespace().collect();
            Some((
                fields.first()?.parse::<u64>().ok()?,
                fields.get(8)?.parse::<u64>().ok()?,
            ))
        })
        .fold((0, 0), |(rx, tx), (r, t)| (rx + r, tx + t))
}

fn take_sample(session: &Session) -> Sample {
    let (rx_bytes, tx_bytes) = net_bytes(session);
    Sample {
        at: Instant::now(),
        cpu_micros: cpu_micros(session),
        rx_bytes,
        tx_bytes,
    }
}

/// Samples the session's metrics. Rates (CPU, network) are measured since the previous
/// call, or over a short interval on the first call.
pub async fn sample(
    session: &Arc<Session>,
    cpu_limit: Option<f64>,
    memory_limit: Option<u64>,
) -> Metrics {
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu_count = cpu_limit
        .map(|cores| cores.ceil().max(1.0) as usize)
        .unwrap_or(host_cpus)
        .min(host_cpus)
        .max(1);
    let mut now = take_sample(session);
    let before = match session.swap_metrics_sample(now) {
        Some(before) => before,
        None => {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let first = now;
            now = take_sample(session);
            session.swap_metrics_sample(now);
            first
        }
    };
    build(session, cpu_count, before, now, memory_limit)
}

fn build(
    session: &Session,
    cpu_count: usize,
    before: Sample,
    now: Sample,
    memory_limit: Option<u64>,
) -> Metrics {
    let wall = now.at.saturating_duration_since(before.at).as_secs_f64();
    let rate = |later: u64, earlier: u64| {
        if wall > 0.0 {
            later.saturating_sub(earlier) as f64 / 1024.0 / wall
        } else {
            0.0
        }
    };
    let cpu_used_pct = if wall > 0.0 {
        (now.cpu_micros.saturating_sub(before.cpu_micros) as f64 / 1e6 / wall / cpu_count as f64
            * 100.0)
            .clamp(0.0, 100.0)
    } else {
        0.0
    };
    let host = host_memory();
    let mem_total =
        memory_limit.map_or(host, |limit| if host > 0 { limit.min(host) } else { limit });
    let (rss, _) = session.sandbox.memory_usage();
    let mem_used = rss.clamp(1, mem_total.max(1));
    let (disk_total, disk_used) = disk(session).unwrap_or((1, 0));
    Metrics {
        cpu_count: u32::try_from(cpu_count).ok(),
        cpu_used_pct: Some((cpu_used_pct * 100.0).round() / 100.0),
        mem_total: Some(mem_total.max(1)),
        mem_used: Some(mem_used),
        disk_total: Some(disk_total.max(1)),
        disk_used: Some(disk_used.min(disk_total.max(1))),
        rx_rate_kbyte_per_s: Some(rate(now.rx_bytes, before.rx_bytes)),
        tx_rate_kbyte_per_s: Some(rate(now.tx_bytes, before.tx_bytes)),
        rx_used_kbyte: Some(now.rx_bytes as f64 / 1024.0),
        tx_used_kbyte: Some(now.tx_bytes as f64 / 1024.0),
        timestamp: Some(rfc3339(SystemTime::now())),
    }
}

/// The `get_metrics` tool.
pub async fn run(
    session: &Arc<Session>,
    cpu_limit: Option<f64>,
    memory_limit: Option<u64>,
) -> ToolCallData {
    ToolCallData::ok(sample(session, cpu_limit, memory_limit).await.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_600 + 3661)),
            "2026-01-01T01:01:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
