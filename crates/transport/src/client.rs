//! The default [`HttpSend`]: hyper 1 + hyper-util's pooled client + rustls.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::TransportError;
use crate::request_id::RequestId;
use crate::send::{HttpSend, SendFuture};
use crate::tls::{self, TlsSettings};
use crate::transport::BuildError;

/// The default single-attempt client: hyper 1 over hyper-util's keep-alive pool, rustls
/// (ring) for `https`, HTTP/1.1 and HTTP/2 chosen by ALPN.
///
/// Cheap to clone; clones share the pool. Requests must carry absolute URIs (the
/// [`Transport`](crate::Transport) joins relative paths to its base URL).
#[derive(Clone, Debug)]
pub struct HyperClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    limits: Option<Arc<HostLimits>>,
    /// False when no root certificate is trusted: `https` requests fail before connecting.
    can_trust: bool,
}

impl HyperClient {
    /// Starts building a client.
    pub fn builder() -> HyperClientBuilder {
        HyperClientBuilder::default()
    }

    async fn send_once(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let uri = request.uri();
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(TransportError::invalid_request(
                "the request URI must be absolute (scheme and host)",
            ));
        };
        if scheme == "https" && !self.can_trust {
            return Err(TransportError::tls(
                "no trusted root certificates: enable the `webpki-roots` or `native-roots` \
                 feature of agbcloud-transport or add a custom root",
            ));
        }
        let _permit = match &self.limits {
            Some(limits) => Some(limits.acquire(scheme, authority.as_str()).await?),
            None => None,
        };
        let response = self
            .client
            .request(request.map(Full::new))
            .await
            .map_err(map_request_error)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|err| {
            let error = TransportError::body(err);
            match RequestId::from_headers(&parts.headers) {
                Some(id) => error.with_request_id(id.0),
                None => error,
            }
        })?;
        Ok(Response::from_parts(parts, body.to_bytes()))
    }
}

impl HttpSend for HyperClient {
    fn send(&self, request: Request<Bytes>) -> SendFuture<'_> {
        Box::pin(self.send_once(request))
    }
}

/// Maps a hyper-util error onto a kind that says whether the request may have been sent.
fn map_request_error(error: hyper_util::client::legacy::Error) -> TransportError {
    if error.is_connect() {
        if has_tls_cause(&error) {
            TransportError::tls(error)
        } else {
            TransportError::connect(error)
        }
    } else if source_chain(&error).any(is_hyper_user_error) {
        TransportError::invalid_request(error)
    } else {
        TransportError::interrupted(error)
    }
}

fn source_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |error: &&'a (dyn StdError + 'static)| {
        (*error).source()
    })
}

fn has_tls_cause(error: &(dyn StdError + 'static)) -> bool {
    if error.is::<rustls::Error>() {
        return true;
    }
    // `io::Error::source` skips the wrapped error itself, so look inside explicitly.
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .map(|inner| inner as &(dyn StdError + 'static));
    wrapped.is_some_and(has_tls_cause) || error.source().is_some_and(has_tls_cause)
}

fn is_hyper_user_error(error: &(dyn StdError + 'static)) -> bool {
    error
        .downcast_ref::<hyper::Error>()
        .is_some_and(|error| error.is_user())
}

/// Caps concurrent requests per origin, which bounds HTTP/1.1 connections per host.
#[derive(Debug)]
struct HostLimits {
    per_host: usize,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    async fn acquire(
        &self,
        scheme: &str,
        authority: &str,
    ) -> Result<OwnedSemaphorePermit, TransportError> {
        let semaphore = {
            let mut map = self
                .semaphores
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let key = format!("{scheme}://{authority}");
            map.entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        semaphore
            .acquire_owned()
            .await
            .map_err(TransportError::other)
    }
}

/// Builds a [`HyperClient`]. Setters never fail; [`build`](Self::build) reports the first
/// problem.
#[derive(Clone, Debug)]
pub struct HyperClientBuilder {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    max_connections_per_host: Option<usize>,
    http2_only: bool,
    tls: TlsSettings,
    pem_roots: Vec<Vec<u8>>,
}

impl Default for HyperClientBuilder {
    /// Connect timeout 10 s; idle connections kept 30 s (below common server keep-alives),
    /// at most 16 idle and 32 in use per host; roots from the enabled root features.
    fn default() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(30)),
            pool_max_idle_per_host: 16,
            max_connections_per_host: Some(32),
            http2_only: false,
            tls: TlsSettings::default(),
            pem_roots: Vec::new(),
        }
    }
}

impl HyperClientBuilder {
    /// Time allowed to open a TCP connection (`None`: the OS default). The TLS handshake is
    /// bounded by the transport's attempt timeout.
    #[must_use]
    pub fn connect_timeout(mut self, limit: Option<Duration>) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// How long an idle pooled connection is kept (`None`: until the server closes it).
    #[must_use]
    pub fn pool_idle_timeout(mut self, limit: Option<Duration>) -> Self {
        self.pool_idle_timeout = limit;
        self
    }

    /// The most idle connections kept per host; 0 disables keep-alive reuse.
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// The most requests in flight per host (`None`: unbounded). Over HTTP/1.1 this is the
    /// most connections per host; further requests wait for a free one.
    #[must_use]
    pub fn max_connections_per_host(mut self, max: Option<usize>) -> Self {
        self.max_connections_per_host = max.map(|max| max.max(1));
        self
    }

    /// Speak HTTP/2 only, also without TLS (prior knowledge).
    #[must_use]
    pub fn http2_only(mut self, enabled: bool) -> Self {
        self.http2_only = enabled;
        self
    }

    /// Trusts the Mozilla roots of `webpki-roots` (default with that feature).
    #[must_use]
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.tls.webpki_roots = enabled;
        self
    }

    /// Trusts the platform's roots (default with the `native-roots` feature).
    #[must_use]
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.tls.native_roots = enabled;
        self
    }

    /// Also trusts this DER-encoded root certificate.
    #[must_use]
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.tls.extra_roots.push(CertificateDer::from(der.into()));
        self
    }

    /// Also trusts every certificate of this PEM bundle.
    #[must_use]
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.pem_roots.push(pem.into());
        self
    }

    /// Accepts any server certificate. Only for local testing against self-signed servers;
    /// off by default, and a warning is logged when a client is built with it.
    #[must_use]
    pub fn danger_accept_invalid_certs(mut self, enabled: bool) -> Self {
        self.tls.accept_invalid_certs = enabled;
        self
    }

    /// Builds the client. Must be called inside a tokio runtime only when sending.
    pub fn build(self) -> Result<HyperClient, BuildError> {
        let mut tls_settings = self.tls;
        for pem in &self.pem_roots {
            tls_settings
                .extra_roots
                .extend(tls::certificates_from_pem(pem)?);
        }
        let (tls_config, can_trust) = tls::client_config(&tls_settings)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http2_only);
        Ok(HyperClient {
            client: builder.build(https),
            limits: self.max_connections_per_host.map(|per_host| {
                Arc::new(HostLimits {
                    per_host,
                    semaphores: Mutex::new(HashMap::new()),
                })
            }),
            can_trust,
        })
    }
}
