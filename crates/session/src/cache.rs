//! `ResultCache`: successful results of deterministic runs, served without a request.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agbcloud_wire::tools::code::Language;
use tokio::time::Instant;

use crate::code::CodeRun;

/// What a cached result is keyed by: a hash of (image, language, code, kernel-state flag).
/// The code itself is kept too, so a hash collision can never serve a wrong result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    hash: u64,
    image: String,
    language: Language,
    code: String,
    kernel_state: bool,
}

impl CacheKey {
    /// The key of `code` in `language` on `image`; `kernel_state` is true when the code reads
    /// state left by earlier runs.
    pub fn new(image: &str, language: Language, code: &str, kernel_state: bool) -> Self {
        let mut hasher = DefaultHasher::new();
        (image, language.as_str(), code, kernel_state).hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            image: image.to_owned(),
            language,
            code: code.to_owned(),
            kernel_state,
        }
    }

    /// The 64-bit hash of the key.
    pub fn hash_value(&self) -> u64 {
        self.hash
    }
}

/// Limits of a [`ResultCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most entries kept (default 1,000).
    pub max_entries: usize,
    /// Most bytes of results kept, approximately (default 64 MiB).
    pub max_bytes: usize,
    /// How long an entry is served (default 10 minutes).
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 1_000,
            max_bytes: 64 << 20,
            ttl: Duration::from_secs(600),
        }
    }
}

impl CacheConfig {
    /// Sets [`CacheConfig::max_entries`].
    #[must_use]
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Sets [`CacheConfig::max_bytes`].
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Sets [`CacheConfig::ttl`].
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

/// Hit and miss counts of a [`ResultCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheMetrics {
    /// Lookups served from the cache.
    pub hits: u64,
    /// Lookups that found nothing (or an expired entry).
    pub misses: u64,
    /// Entries stored.
    pub inserts: u64,
    /// Entries dropped for the entry or byte budget, or expiry.
    pub evictions: u64,
    /// Entries held now.
    pub entries: usize,
    /// Approximate bytes held now.
    pub bytes: usize,
}

/// An LRU cache of successful code runs with a TTL and a byte budget, shared by reference.
///
/// Only calls marked with [`RunCode::cache`](crate::RunCode::cache) use it, and only
/// successful runs are stored: the caller asserts that the code is deterministic.
#[derive(Debug, Default)]
pub struct ResultCache {
    config: CacheConfig,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
    inserts: AtomicU64,
    evictions: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<CacheKey, Entry>,
    order: BTreeMap<u64, CacheKey>,
    tick: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    run: CodeRun,
    bytes: usize,
    stored: Instant,
    tick: u64,
}

impl ResultCache {
    /// A cache with `config`.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached run for `key`, if present and fresh; counts a hit or a miss.
    pub fn get(&self, key: &CacheKey) -> Option<CodeRun> {
        let mut state = self.state();
        let now = Instant::now();
        let found = match state.entries.get(key) {
            Some(entry) if now.duration_since(entry.stored) < self.config.ttl => Some(entry.tick),
            Some(_) => {
                state.remove(key);
                self.evictions.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => None,
        };
        let Some(old_tick) = found else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        state.tick += 1;
        let tick = state.tick;
        state.order.remove(&old_tick);
        state.order.insert(tick, key.clone());
        let entry = state.entries.get_mut(key)?;
        entry.tick = tick;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.run.clone())
    }

    /// Stores a successful run (failed runs are ignored), evicting the least recently used
    /// entries beyond the budgets.
    pub fn insert(&self, key: CacheKey, run: &CodeRun) {
        if !run.success {
            return;
        }
        let bytes = run.approx_bytes() + key.code.len() + key.image.len();
        if bytes > self.config.max_bytes || self.config.max_entries == 0 {
            return;
        }
        let mut state = self.state();
        state.remove(&key);
        state.tick += 1;
        let tick = state.tick;
        let mut run = run.clone();
        run.from_cache = false;
        state.order.insert(tick, key.clone());
        state.bytes += bytes;
        state.entries.insert(
            key,
            Entry {
                run,
                bytes,
                stored: Instant::now(),
                tick,
            },
        );
        self.inserts.fetch_add(1, Ordering::Relaxed);
        while state.entries.len() > self.config.max_entries || state.bytes > self.config.max_bytes {
            let Some((_, oldest)) = state.order.pop_first() else {
                break;
            };
            state.remove(&oldest);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.order.clear();
        state.bytes = 0;
    }

    /// Current counts.
    pub fn metrics(&self) -> CacheMetrics {
        let state = self.state();
        CacheMetrics {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            inserts: self.inserts.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: state.entries.len(),
            bytes: state.bytes,
        }
    }
}

impl State {
    fn remove(&mut self, key: &CacheKey) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.tick);
            self.bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_run(text: &str) -> CodeRun {
        CodeRun {
            success: true,
            logs: agbcloud_wire::tools::code::ExecutionLogs {
                stdout: vec![text.to_owned()],
                stderr: Vec::new(),
            },
            ..CodeRun::default()
        }
    }

    fn key(code: &str) -> CacheKey {
        CacheKey::new("img", Language::Python, code, false)
    }

    #[tokio::test(start_paused = true)]
    async fn serves_fresh_entries_and_expires_them() {
        let cache = ResultCache::new(CacheConfig::default().ttl(Duration::from_secs(10)));
        assert!(cache.get(&key("a")).is_none());
        cache.insert(key("a"), &ok_run("1"));
        assert_eq!(
            cache.get(&key("a")).map(|run| run.stdout()),
            Some("1".into())
        );
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(cache.get(&key("a")).is_none());
        let metrics = cache.metrics();
        assert_eq!((metrics.hits, metrics.misses, metrics.entries), (1, 2, 0));
    }

    #[test]
    fn only_successful_runs_are_stored() {
        let cache = ResultCache::default();
        cache.insert(key("a"), &CodeRun::default());
        assert_eq!(cache.metrics().entries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn evicts_least_recently_used_beyond_budgets() {
        let cache = ResultCache::new(CacheConfig::default().max_entries(2));
        cache.insert(key("a"), &ok_run("1"));
        cache.insert(key("b"), &ok_run("2"));
        assert!(cache.get(&key("a")).is_some());
        cache.insert(key("c"), &ok_run("3"));
        assert!(cache.get(&key("b")).is_none(), "b was least recently used");
        assert!(cache.get(&key("a")).is_some() && cache.get(&key("c")).is_some());

        let one = ok_run("x").approx_bytes() + 1 + 3;
        let small = ResultCache::new(CacheConfig::default().max_bytes(one * 2));
        for code in ["p", "q", "r"] {
            small.insert(key(code), &ok_run("x"));
        }
        assert_eq!(small.metrics().entries, 2);
        assert!(small.metrics().bytes <= one * 2);
    }

    #[test]
    fn keys_differ_by_every_part() {
        let base = key("x");
        assert_ne!(base, CacheKey::new("other", Language::Python, "x", false));
        assert_ne!(base, CacheKey::new("img", Language::JavaScript, "x", false));
        assert_ne!(base, CacheKey::new("img", Language::Python, "x", true));
        assert_eq!(base.hash_value(), key("x").hash_value());
    }
}
