//! `AgbBuilder`: configuration precedence and the choice of backend.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agbcloud_session::{Agb, ClientOptions, CodePolicy, WsConnector};
use agbcloud_transport::{SharedHttpSend, TimeoutConfig, Transport};

/// The AGB cloud endpoint used when an API key is configured without an endpoint.
pub const DEFAULT_ENDPOINT: &str = "sdk-api.agb.cloud";

/// Environment variable: the API key.
const ENV_API_KEY: &str = "AGB_API_KEY";
/// Environment variable: the endpoint.
const ENV_ENDPOINT: &str = "AGB_ENDPOINT";
/// Environment variable: the request timeout in milliseconds.
const ENV_TIMEOUT_MS: &str = "AGB_TIMEOUT_MS";

/// Which backend a client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// An AGB server at this endpoint (the cloud, or `agb serve`).
    Remote {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// The local engine, in-process (feature `embedded`).
    Embedded,
    /// A caller-supplied `HttpSend`.
    Custom,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The transport could not be built (bad endpoint, bad key characters, TLS roots).
    #[error(transparent)]
    Transport(#[from] agbcloud_transport::BuildError),
    /// A setting has an unusable value.
    #[error("invalid {setting}: {message}")]
    InvalidSetting {
        /// The setting, e.g. `AGB_TIMEOUT_MS`.
        setting: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Neither an endpoint nor an API key is configured and the `embedded` feature is off.
    #[error(
        "no AGB backend: set AGB_ENDPOINT and AGB_API_KEY, or enable the `embedded` feature of agbcloud"
    )]
    NoBackend,
    /// The embedded engine could not start.
    #[cfg(feature = "embedded")]
    #[error("the embedded engine could not start: {0}")]
    Embedded(#[from] agbcloud_server::ServerError),
}

/// Builds an [`Agb`] client. Setters never fail; [`build`](Self::build) reports the first
/// problem.
///
/// Precedence for each setting: the value set here, then the process environment
/// (`AGB_API_KEY`, `AGB_ENDPOINT`, `AGB_TIMEOUT_MS`), then `.env` in the working directory,
/// then defaults. With neither an endpoint nor an API key from any source, the client runs
/// the embedded local engine; with a key but no endpoint, it talks to
/// [`DEFAULT_ENDPOINT`].
///
/// ```no_run
/// use agbcloud::prelude::*;
///
/// # fn demo() -> Result<(), agbcloud::BuildError> {
/// let cloud = Agb::builder().api_key("akm-...").build()?;
/// let local_server = Agb::builder().endpoint("http://127.0.0.1:8080").api_key("dev").build()?;
/// let embedded = Agb::builder().embedded().build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct AgbBuilder {
    api_key: Option<String>,
    endpoint: Option<String>,
    timeout: Option<Duration>,
    force_embedded: bool,
    use_environment: Option<bool>,
    env_file: Option<PathBuf>,
    http_send: Option<SharedHttpSend>,
    options: ClientOptions,
}

/// `Agb::builder()`: brought into scope by `use agbcloud::prelude::*`.
pub trait AgbExt {
    /// Starts building a client.
    fn builder() -> AgbBuilder;
}

impl AgbExt for Agb {
    fn builder() -> AgbBuilder {
        AgbBuilder::default()
    }
}

impl AgbBuilder {
    /// The API key (overrides `AGB_API_KEY`).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The endpoint, e.g. `http://127.0.0.1:8080` (overrides `AGB_ENDPOINT`); without a scheme
    /// it gets `https://`.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The per-request timeout of ordinary calls (overrides `AGB_TIMEOUT_MS`). Code and
    /// command calls are bounded by their own timeout plus a margin instead.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Uses the embedded engine whatever the environment says (feature `embedded`).
    #[must_use]
    pub fn embedded(mut self) -> Self {
        self.force_embedded = true;
        self
    }

    /// Whether to read the process environment and `.env` (default: yes).
    #[must_use]
    pub fn use_environment(mut self, enabled: bool) -> Self {
        self.use_environment = Some(enabled);
        self
    }

    /// Reads this file instead of `./.env`.
    #[must_use]
    pub fn env_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.env_file = Some(path.into());
        self
    }

    /// Sends requests through `http_send` (a custom transport or a test double).
    #[must_use]
    pub fn http_send(mut self, http_send: SharedHttpSend) -> Self {
        self.http_send = Some(http_send);
        self
    }

    /// Client options (timeout margin, deletion bound, code policy).
    #[must_use]
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks every code run with `policy` before sending it.
    #[must_use]
    pub fn code_policy(mut self, policy: CodePolicy) -> Self {
        self.options.code_policy = Some(Arc::new(policy));
        self
    }

    /// Builds the client and logs (at info) which backend it uses.
    pub fn build(self) -> Result<Agb, BuildError> {
        let settings = self.resolve()?;
        let mut transport = Transport::builder();
        let mut timeouts = TimeoutConfig::default();
        if let Some(timeout) = settings.timeout {
            timeouts = timeouts.attempt(Some(timeout));
        }
        transport = transport.timeouts(timeouts);
        let backend = match (&self.http_send, self.force_embedded, &settings.endpoint) {
            (Some(_), _, _) => Backend::Custom,
            (None, true, _) => Backend::Embedded,
            (None, false, Some(endpoint)) => Backend::Remote {
                endpoint: endpoint.clone(),
            },
            (None, false, None) if settings.api_key.is_some() => Backend::Remote {
                endpoint: DEFAULT_ENDPOINT.to_owned(),
            },
            (None, false, None) => Backend::Embedded,
        };
        let mut keep_alive: Option<Arc<dyn std::any::Any + Send + Sync>> = None;
        let mut options = self.options.clone();
        match &backend {
            Backend::Custom => {
                let http = self.http_send.clone().ok_or(BuildError::NoBackend)?;
                transport = transport
                    .shared_http_send(http)
                    .endpoint(settings.endpoint.as_deref().unwrap_or("http://agb.local"));
                if let Some(key) = &settings.api_key {
                    transport = transport.api_key(key.clone());
                }
            }
            Backend::Remote { endpoint } => {
                transport = transport.endpoint(endpoint.clone());
                if let Some(key) = &settings.api_key {
                    transport = transport.api_key(key.clone());
                }
            }
            Backend::Embedded => {
                let (http, base_url, engine, connector) = embedded_engine()?;
                transport = transport.shared_http_send(http).endpoint(base_url);
                keep_alive = Some(engine);
                options.ws_connector = Some(connector);
            }
        }
        let transport = transport.build()?;
        match &backend {
            Backend::Embedded => tracing::info!(
                "AGB client: embedded local engine, in-process (no AGB_ENDPOINT or AGB_API_KEY configured)"
            ),
            Backend::Remote { .. } => tracing::info!(
                base_url = transport
                    .base_url()
                    .map(|url| url.origin())
                    .unwrap_or_default(),
                "AGB client: remote endpoint"
            ),
            Backend::Custom => tracing::info!("AGB client: custom HttpSend"),
        }
        Ok(Agb::from_parts(transport, options, keep_alive))
    }

    /// Applies the precedence: explicit, environment, `.env`, defaults.
    fn resolve(&self) -> Result<Settings, BuildError> {
        let use_environment = self.use_environment.unwrap_or(true);
        let dotenv = if use_environment {
            read_env_file(
                self.env_file
                    .as_deref()
                    .unwrap_or_else(|| Path::new(".env")),
            )
        } else {
            HashMap::new()
        };
        let lookup = |name: &str| -> Option<String> {
            if !use_environment {
                return None;
            }
            std::env::var(name)
                .ok()
                .or_else(|| dotenv.get(name).cloned())
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let api_key = self.api_key.clone().or_else(|| lookup(ENV_API_KEY));
        let endpoint = self.endpoint.clone().or_else(|| lookup(ENV_ENDPOINT));
        let timeout = match self.timeout {
            Some(timeout) => Some(timeout),
            None => lookup(ENV_TIMEOUT_MS)
                .map(|ms| {
                    ms.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                        BuildError::InvalidSetting {
                            setting: ENV_TIMEOUT_MS,
                            message: format!("{ms:?} is not a number of milliseconds"),
                        }
                    })
                })
                .transpose()?,
        };
        Ok(Settings {
            api_key,
            endpoint,
            timeout,
        })
    }
}

struct Settings {
    api_key: Option<String>,
    endpoint: Option<String>,
    timeout: Option<Duration>,
}

/// The variables of a `.env` file; a missing or unreadable file is empty.
fn read_env_file(path: &Path) -> HashMap<String, String> {
    match dotenvy::from_path_iter(path) {
        Ok(items) => items.filter_map(Result::ok).collect(),
        Err(_) => HashMap::new(),
    }
}

/// What the client needs from the embedded engine: its `HttpSend`, base URL, keep-alive and
/// in-process stream connector.
type EngineParts = (
    SharedHttpSend,
    String,
    Arc<dyn std::any::Any + Send + Sync>,
    Arc<dyn WsConnector>,
);

/// Starts an embedded engine for one client (and its clones and sessions): its sessions
/// are destroyed when the last of them is dropped. Build one client and clone it.
#[cfg(feature = "embedded")]
fn embedded_engine() -> Result<EngineParts, BuildError> {
    use agbcloud_server::{Embedded, ServerConfig};

    /// Streams of embedded sessions: the engine's WebSocket endpoint over an in-process pipe.
    #[derive(Debug)]
    struct EmbeddedStreams(Embedded);

    impl WsConnector for EmbeddedStreams {
        fn connect(&self, token: &str) -> Option<Box<dyn agbcloud_session::StreamIo>> {
            self.0
                .websocket(token)
                .map(|io| Box::new(io) as Box<dyn agbcloud_session::StreamIo>)
        }
    }

    let engine = Embedded::start(ServerConfig::embedded())?;
    let http = engine.http_send();
    let base_url = engine.base_url().to_owned();
    let connector = Arc::new(EmbeddedStreams(engine.clone()));
    Ok((http, base_url, Arc::new(engine), connector))
}

#[cfg(not(feature = "embedded"))]
fn embedded_engine() -> Result<EngineParts, BuildError> {
    Err(BuildError::NoBackend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_env_file_and_env_file_fills_gaps() {
        let dir = std::env::temp_dir().join(format!("agb-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join(".env");
        std::fs::write(&file, "AGB_ENDPOINT=file.example\nAGB_TIMEOUT_MS=2500\n").expect("write");
        let settings = AgbBuilder::default()
            .env_file(&file)
            .api_key("explicit")
            .resolve()
            .expect("resolved");
        assert_eq!(settings.api_key.as_deref(), Some("explicit"));
        if std::env::var(ENV_ENDPOINT).is_err() {
            assert_eq!(settings.endpoint.as_deref(), Some("file.example"));
        }
        if std::env::var(ENV_TIMEOUT_MS).is_err() {
            assert_eq!(settings.timeout, Some(Duration::from_millis(2500)));
        }
        let explicit = AgbBuilder::default()
            .env_file(&file)
            .endpoint("http://127.0.0.1:1")
            .resolve()
            .expect("resolved");
        assert_eq!(explicit.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn environment_can_be_ignored() {
        let settings = AgbBuilder::default()
            .use_environment(false)
            .resolve()
            .expect("resolved");
        assert!(settings.api_key.is_none() && settings.endpoint.is_none());
    }

    #[test]
    fn a_bad_timeout_is_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("agb-env-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join(".env");
        std::fs::write(&file, "AGB_TIMEOUT_MS=soon\n").expect("write");
        if std::env::var(ENV_TIMEOUT_MS).is_err() {
            let error = AgbBuilder::default().env_file(&file).resolve().err();
            assert!(matches!(error, Some(BuildError::InvalidSetting { .. })));
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn scheme_less_endpoints_get_https() {
        let agb = AgbBuilder::default()
            .use_environment(false)
            .endpoint("sdk.example:8443")
            .api_key("k")
            .build()
            .expect("built");
        let base = agb.transport().base_url().expect("base url");
        assert_eq!(base.origin(), "https://sdk.example:8443");
    }
}
