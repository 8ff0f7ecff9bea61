//! Server configuration: listen address, API keys, limits, image mapping, timers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use agbcloud_sandbox::{Image, Limits};
use serde::Deserialize;

use crate::error::ServerError;

/// Environment variable holding extra API keys, comma-separated.
pub const API_KEYS_ENV: &str = "AGB_SERVER_API_KEYS";

/// Default request body cap (16 MiB).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Default idle release timeout of a session created without `timeout` (5 minutes, as the
/// official docs say).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Which API keys are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Any non-empty key (`--dev`); each key is still its own tenant.
    AnyKey,
    /// Only these keys.
    Keys(BTreeSet<String>),
}

/// Ready sandboxes kept per image by default (see [`ServerConfig::warm_pool`]).
pub const DEFAULT_WARM_POOL: usize = 2;

/// Everything the server needs to run. Build one with [`ServerConfig::new`] or
/// [`ServerConfig::embedded`] and adjust the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port). Unused when embedded.
    pub listen: SocketAddr,
    /// Accepted API keys.
    pub auth: AuthMode,
    /// Accept requests without any API key (as tenant `""`); for the embedded engine only.
    pub allow_anonymous: bool,
    /// How often the idle reaper looks for expired sessions.
    pub reap_interval: Duration,
    /// Largest accepted request body, in bytes; larger bodies get a 413 envelope.
    pub max_body: usize,
    /// Idle timeout of sessions created without `timeout`.
    pub default_idle_timeout: Duration,
    /// Largest idle timeout a client may ask for.
    pub max_idle_timeout: Duration,
    /// Image ids mapped to sandbox images; unknown ids use `default_image`.
    pub images: BTreeMap<String, Image>,
    /// The image of unknown image ids.
    pub default_image: Image,
    /// Resource limits of every session's sandbox.
    pub limits: Limits,
    /// Advertise `linkUrl` in session objects. Off by default: the official SDK then sends
    /// every tool call to `/mcp`, where a released session's failure carries the server's
    /// "Session not found" message (on the link route the SDK only reports the HTTP status).
    /// The `/link/callTool` route is served either way.
    pub link_route: bool,
    /// Ready sandboxes kept per image, each with its Python kernel already started, so that
    /// creating a session is a pop from the pool (refilled in the background). 0 turns the
    /// pool off: every create builds its sandbox then.
    pub warm_pool: usize,
}

impl ServerConfig {
    /// Listening on `listen`, accepting only `keys` (empty: no key works until you add one
    /// or set [`AuthMode::AnyKey`]).
    pub fn new(listen: SocketAddr, keys: impl IntoIterator<Item = String>) -> Self {
        let images = [
            "agb-code-space-1",
            "agb-code-space-2",
            "agb-browser-use-1",
            "agb-computer-use-ubuntu-2204",
        ]
        .into_iter()
        .map(|id| (id.to_owned(), Image::named(id)))
        .collect();
        Self {
            listen,
            auth: AuthMode::Keys(keys.into_iter().filter(|k| !k.is_empty()).collect()),
            allow_anonymous: false,
            reap_interval: Duration::from_secs(10),
            max_body: DEFAULT_MAX_BODY,
            default_idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_idle_timeout: Duration::from_secs(24 * 3600),
            images,
            default_image: Image::standard(),
            limits: Limits::default(),
            link_route: false,
            warm_pool: DEFAULT_WARM_POOL,
        }
    }

    /// Development mode on `listen`: any non-empty key is accepted.
    pub fn dev(listen: SocketAddr) -> Self {
        Self {
            auth: AuthMode::AnyKey,
            ..Self::new(listen, [])
        }
    }

    /// The configuration of the in-process engine: any key (or none) is accepted.
    pub fn embedded() -> Self {
        Self {
            allow_anonymous: true,
            ..Self::dev(SocketAddr::from(([127, 0, 0, 1], 0)))
        }
    }

    /// Adds the comma-separated keys of [`API_KEYS_ENV`], if set.
    pub fn with_env_keys(mut self) -> Self {
        if let Ok(keys) = std::env::var(API_KEYS_ENV) {
            self.add_keys(keys.split(',').map(str::trim).map(str::to_owned));
        }
        self
    }

    /// Adds accepted keys (no effect in [`AuthMode::AnyKey`]).
    pub fn add_keys(&mut self, keys: impl IntoIterator<Item = String>) {
        if let AuthMode::Keys(set) = &mut self.auth {
            set.extend(keys.into_iter().filter(|k| !k.is_empty()));
        }
    }

    /// The sandbox image of an AGB image id.
    pub fn image_for(&self, image_id: &str) -> Image {
        self.images
            .get(image_id)
            .cloned()
            .unwrap_or_else(|| self.default_image.clone())
    }

    /// Applies a TOML config file (see [`FileConfig`]).
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ServerError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServerError::ConfigFile {
            path: path.display().to_string(),
            source,
        })?;
        let file: FileConfig = toml::from_str(&text)
            .map_err(|err| ServerError::Config(format!("{}: {err}", path.display())))?;
        file.apply(self)
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ServerError> {
        if self.reap_interval.is_zero() {
            return Err(ServerError::Config("reap interval must be positive".into()));
        }
        if self.max_body == 0 {
            return Err(ServerError::Config("max body must be positive".into()));
        }
        for image in self.images.values().chain([&self.default_image]) {
            image
                .validate()
                .map_err(|err| ServerError::Config(format!("image {}: {err}", image.name)))?;
        }
        Ok(())
    }
}

/// The `--config` file (TOML); every key is optional.
///
/// ```toml
/// api_keys = ["akm-1"]
/// reap_interval = "10s"
/// max_body = "16MiB"
/// default_idle_timeout = "5m"
/// memory = "512M"
/// [images.my-image]
/// lowers = ["/usr", "/etc", "/opt"]
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Accepted keys, added to those of the command line.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Reaper period, e.g. `10s`.
    pub reap_interval: Option<String>,
    /// Body cap, e.g. `16MiB`.
    pub max_body: Option<String>,
    /// Default idle timeout, e.g. `5m`.
    pub default_idle_timeout: Option<String>,
    /// Sandbox memory limit, e.g. `512M`.
    pub memory: Option<String>,
    /// Sandbox process limit.
    pub pids: Option<u64>,
    /// Sandbox CPU limit in cores.
    pub cpu: Option<f64>,
    /// Images by id.
    #[serde(default)]
    pub images: BTreeMap<String, FileImage>,
    /// Whether to advertise `linkUrl`.
    pub link_route: Option<bool>,
    /// Ready sandboxes (with Python started) kept per image; 0 turns the pool off.
    pub warm_pool: Option<usize>,
}

/// An image of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileImage {
    /// Host directories overlaid read-only.
    pub lowers: Vec<String>,
}

impl FileConfig {
    fn apply(self, config: &mut ServerConfig) -> Result<(), ServerError> {
        config.add_keys(self.api_keys);
        if let Some(text) = self.reap_interval {
            config.reap_interval = parse_duration(&text).map_err(ServerError::Config)?;
        }
        if let Some(text) = self.max_body {
            config.max_body = parse_bytes(&text).map_err(ServerError::Config)?;
        }
        if let Some(text) = self.default_idle_timeout {
            config.default_idle_timeout = parse_duration(&text).map_err(ServerError::Config)?;
        }
        if let Some(text) = self.memory {
            config.limits.memory = Some(parse_bytes(&text).map_err(ServerError::Config)? as u64);
        }
        if let Some(pids) = self.pids {
            config.limits.pids = Some(pids);
        }
        if let Some(cpu) = self.cpu {
            config.limits.cpu = Some(cpu);
        }
        if let Some(link) = self.link_route {
            config.link_route = link;
        }
        if let Some(size) = self.warm_pool {
            config.warm_pool = size;
        }
        for (id, image) in self.images {
            let mut built = Image::named(&id);
            built.lowers = image.lowers;
            config.images.insert(id, built);
        }
        Ok(())
    }
}

/// Parses a duration such as `10s`, `500ms`, `5m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 10s, 500ms, 5m"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("invalid duration unit {other:?} in {text:?}")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("invalid duration {text:?}: {err}"))
}

/// Parses a byte size such as `16MiB`, `16M`, `512k`, `1GiB` or a bare number of bytes.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: usize = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. 16MiB"))?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("invalid size unit {other:?} in {text:?}")),
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_bytes("16MiB"), Ok(16 << 20));
        assert_eq!(parse_bytes("512k"), Ok(512 << 10));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn config_files_add_keys_and_override_settings() {
        let dir = std::env::temp_dir().join(format!("agb-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("server.toml");
        std::fs::write(
            &path,
            "api_keys = [\"from-file\"]\nreap_interval = \"2s\"\nmax_body = \"1MiB\"\n\
             [images.custom]\nlowers = [\"/usr\"]\n",
        )
        .expect("write config");
        let mut config = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), []);
        config.apply_file(&path).expect("valid file");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(config.auth, AuthMode::Keys(["from-file".to_owned()].into()));
        assert_eq!(config.reap_interval, Duration::from_secs(2));
        assert_eq!(config.max_body, 1 << 20);
        assert_eq!(config.image_for("custom").lowers, ["/usr"]);
        assert!(config.validate().is_ok());
        let mut broken = ServerConfig::embedded();
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(&path, "unknown_key = 1\n").expect("write config");
        let err = broken
            .apply_file(&path)
            .expect_err("unknown keys are refused");
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.to_string().contains("unknown_key"), "{err}");
    }

    #[test]
    fn unknown_images_map_to_the_default() {
        let config = ServerConfig::embedded();
        assert_eq!(
            config.image_for("agb-code-space-2").name,
            "agb-code-space-2"
        );
        assert_eq!(config.image_for("whatever").name, "default");
        assert!(config.allow_anonymous);
    }
}
