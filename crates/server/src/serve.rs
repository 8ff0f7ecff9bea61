//! The socket server: hyper 1 over TCP (HTTP/1.1 and HTTP/2), WebSocket upgrades, body
//! caps, and a graceful shutdown that destroys every session.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::app::{App, PublicUrls};
use crate::config::ServerConfig;
use crate::envelope::{ApiError, new_request_id};
use crate::error::ServerError;
use crate::router::{Router, WS_PATH, normalise_path};
use crate::{reaper, ws};

/// How long shutdown waits for open HTTP connections to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A bound server, not yet accepting.
#[derive(Debug)]
pub struct Server {
    router: Router,
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl Server {
    /// Starts the sandbox engine (removing leftovers of a crashed run) and binds
    /// `config.listen`.
    pub async fn bind(config: ServerConfig) -> Result<Self, ServerError> {
        let listen = config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: listen.to_string(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: listen.to_string(),
            source,
        })?;
        let app = App::start(config)?;
        let host = if local_addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], local_addr.port()))
        } else {
            local_addr
        };
        app.set_public(PublicUrls {
            http: format!("http://{host}"),
            ws: format!("ws://{host}"),
        });
        Ok(Self {
            router: Router::new(app),
            listener,
            local_addr,
        })
    }

    /// The bound address (the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The router (shared state included).
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Serves until `signal` completes, then stops accepting, closes WebSocket connections,
    /// destroys every session and drains open connections (at most a few seconds).
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        let app = Arc::clone(self.router.app());
        let reaper = reaper::spawn(Arc::downgrade(&app), app.config.reap_interval);
        let graceful = GracefulShutdown::new();
        let (closing_tx, closing) = watch::channel(false);
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(signal);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = match accepted {
                        Ok(accepted) => accepted,
                        Err(err) => {
                            tracing::warn!(error = %err, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    stream.set_nodelay(true).ok();
                    let router = self.router.clone();
                    let closing = closing.clone();
                    let service = service_fn(move |request| {
                        let router = router.clone();
                        let closing = closing.clone();
                        async move { Ok::<_, Infallible>(serve_one(router, request, closing).await) }
                    });
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                    });
                }
                () = &mut signal => break,
            }
        }
        drop(self.listener);
        reaper.abort();
        closing_tx.send(true).ok();
        app.shutdown().await;
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("open connections did not finish in time; closing them");
        }
    }

    /// Serves in a background task; the handle stops it.
    pub fn spawn(self) -> RunningServer {
        let local_addr = self.local_addr;
        let app = Arc::clone(self.router.app());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until(async move {
            stopped.await.ok();
        }));
        RunningServer {
            local_addr,
            app,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

/// A server running in the background (see [`Server::spawn`]). Dropping it stops the
/// server without waiting.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The shared state (sessions, configuration).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Stops the server, destroying every session, and waits until it is done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            task.await.ok();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

fn into_full(response: Response<Bytes>) -> Response<Full<Bytes>> {
    response.map(Full::new)
}

async fn serve_one(
    router: Router,
    request: Request<Incoming>,
    closing: watch::Receiver<bool>,
) -> Response<Full<Bytes>> {
    if normalise_path(request.uri().path()) == WS_PATH && ws::is_upgrade(&request) {
        return into_full(ws::upgrade(Arc::clone(router.app()), request, closing));
    }
    let max_body = router.app().config.max_body;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body as u64) {
        return into_full(ApiError::too_large(max_body).into_response(&new_request_id()));
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            let request_id = new_request_id();
            let error = if err.is::<http_body_util::LengthLimitError>() {
                ApiError::too_large(max_body)
            } else {
                ApiError::invalid(format!("cannot read the request body: {err}"))
            };
            return into_full(error.into_response(&request_id));
        }
    };
    let started = std::time::Instant::now();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let response = router.handle(Request::from_parts(parts, body)).await;
    tracing::debug!(
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    into_full(response)
}

/// Options of `agb serve` (see [`serve_blocking`]).
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Listen address; default `127.0.0.1:8080`.
    pub listen: Option<SocketAddr>,
    /// Accept any non-empty key.
    pub dev: bool,
    /// Accepted keys (added to `AGB_SERVER_API_KEYS` and the config file's).
    pub api_keys: Vec<String>,
    /// A TOML config file.
    pub config_file: Option<std::path::PathBuf>,
    /// Idle reaper period.
    pub reap_interval: Option<Duration>,
    /// Request body cap in bytes.
    pub max_body: Option<usize>,
    /// Ready sandboxes kept per image (0: no pool).
    pub warm_pool: Option<usize>,
}

impl ServeOptions {
    /// The server configuration these options describe.
    pub fn to_config(&self) -> Result<ServerConfig, ServerError> {
        let listen = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let mut config = if self.dev {
            ServerConfig::dev(listen)
        } else {
            ServerConfig::new(listen, self.api_keys.clone())
        }
        .with_env_keys();
        if let Some(file) = &self.config_file {
            config.apply_file(file)?;
        }
        if let Some(interval) = self.reap_interval {
            config.reap_interval = interval;
        }
        if let Some(max_body) = self.max_body {
            config.max_body = max_body;
        }
        if let Some(size) = self.warm_pool {
            config.warm_pool = size;
        }
        if matches!(&config.auth, crate::config::AuthMode::Keys(keys) if keys.is_empty()) {
            return Err(ServerError::Config(format!(
                "no API key configured: pass --api-key KEY, set {}, or use --dev to accept any key",
                crate::config::API_KEYS_ENV
            )));
        }
        config.validate()?;
        Ok(config)
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        tokio::signal::ctrl_c().await.ok();
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

/// `agb serve`: binds, prints `agb serve listening on http://ADDR` as the first stdout line
/// (flushed), and serves until SIGINT/SIGTERM, then destroys every session. Runs its own
/// tokio runtime; logs go to stderr (`RUST_LOG`, default `info`).
pub fn serve_blocking(options: &ServeOptions) -> Result<(), ServerError> {
    use std::io::Write;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .ok();
    let config = options.to_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| ServerError::NoRuntime(err.to_string()))?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "agb serve listening on {}", server.url()).ok();
        stdout.flush().ok();
        drop(stdout);
        server.run_until(shutdown_signal()).await;
        tracing::info!("agb serve stopped");
        Ok::<(), ServerError>(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}
