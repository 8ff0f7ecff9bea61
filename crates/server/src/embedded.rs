//! The embedded engine: the router called in-process through [`HttpSend`], with no socket.

use std::sync::{Arc, Mutex, PoisonError};

use agbcloud_transport::{HttpSend, SendFuture, SharedHttpSend};
use bytes::Bytes;
use tokio::io::DuplexStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::app::App;
use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::router::{EMBEDDED_AUTHORITY, Router};
use crate::{reaper, ws};

/// An in-process AGB server for the SDK's embedded default.
///
/// [`Embedded::start`] is synchronous and needs no runtime; the idle reaper starts on the
/// tokio runtime of the first request. Clones share one engine. Sessions are destroyed by
/// [`Embedded::shutdown`] or, without waiting, when the last clone (including those held by
/// [`Embedded::http_send`] transports) is dropped. The embedded engine has no socket, so
/// session objects carry no `wsUrl`/`linkUrl`; streaming is available in-process through
/// [`Embedded::websocket`].
#[derive(Debug, Clone)]
pub struct Embedded {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    router: Router,
    base_url: String,
    reaper: Mutex<Option<JoinHandle<()>>>,
    closing: watch::Sender<bool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(reaper) = self
            .reaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            reaper.abort();
        }
        self.closing.send(true).ok();
        self.router.app().kill_all();
    }
}

impl Embedded {
    /// Starts the engine: checks the configuration and starts the sandbox engine (removing
    /// leftovers of a crashed run). Use [`ServerConfig::embedded`] for any-key auth.
    pub fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let app = App::start(config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                router: Router::new(app),
                base_url: format!("http://{EMBEDDED_AUTHORITY}"),
                reaper: Mutex::new(None),
                closing: watch::channel(false).0,
            }),
        })
    }

    /// The base URL to send requests to (`http://embedded.agb.local`); requests with any
    /// authority are routed the same way.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// An [`HttpSend`] that calls the router directly. It keeps the engine alive.
    pub fn http_send(&self) -> SharedHttpSend {
        SharedHttpSend::new(EmbeddedSend {
            engine: self.clone(),
        })
    }

    /// Answers one request in-process.
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        self.ensure_reaper();
        self.inner.router.handle(request).await
    }

    /// The router (and through it the shared state).
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// An in-process WebSocket connection for the session holding `token` (the streaming
    /// protocol of agb-protocol.md §7 without a socket), or `None` for an unknown token.
    /// Speak WebSocket over the returned stream as a client, e.g. with
    /// `tokio_tungstenite::WebSocketStream::from_raw_socket(stream, Role::Client, None)`.
    /// Needs a tokio runtime.
    pub fn websocket(&self, token: &str) -> Option<DuplexStream> {
        let app = Arc::clone(self.inner.router.app());
        let session = app.registry.by_token(token)?;
        self.ensure_reaper();
        let (client, server) = tokio::io::duplex(256 << 10);
        let closing = self.inner.closing.subscribe();
        tokio::spawn(async move {
            let socket = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
            ws::serve(app, session, socket, closing).await;
        });
        Some(client)
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.inner.router.app().registry.len()
    }

    /// Destroys every session and waits for the clean-up; later creates are refused.
    pub async fn shutdown(&self) {
        if let Some(reaper) = self
            .inner
            .reaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            reaper.abort();
        }
        self.inner.closing.send(true).ok();
        self.inner.router.app().shutdown().await;
    }

    fn ensure_reaper(&self) {
        let mut reaper = self
            .inner
            .reaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if reaper.is_none() && !self.inner.router.app().is_closing() {
            let app = self.inner.router.app();
            *reaper = Some(reaper::spawn(Arc::downgrade(app), app.config.reap_interval));
        }
    }
}

/// The [`HttpSend`] of [`Embedded::http_send`].
#[derive(Debug)]
struct EmbeddedSend {
    engine: Embedded,
}

impl HttpSend for EmbeddedSend {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        Box::pin(async move { Ok(self.engine.handle(request).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clone_send_sync<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn embedded_is_clone_send_sync() {
        clone_send_sync::<Embedded>();
        clone_send_sync::<SharedHttpSend>();
    }
}
