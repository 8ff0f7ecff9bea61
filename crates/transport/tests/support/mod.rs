//! A local hyper server on 127.0.0.1:0 that injects faults, for the client tests.
//!
//! Each request takes the next [`Reply`] from a script (or the default reply when the script
//! is empty). The server counts accepted connections, requests, and the most requests it was
//! handling at once, and keeps every request's headers.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses part of the helper"
)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer with a status, extra headers and a body.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Wait, then do the inner reply (slow response head).
    Delay(Duration, Box<Reply>),
    /// Send the head with `content-length: declared` but only `sent` bytes of body, then end.
    Truncated { declared: usize, sent: &'static str },
    /// Send the head and part of the body, then reset the connection (RST).
    ResetMidResponse { partial: &'static str },
    /// Read the request, then reset the connection without answering.
    ResetBeforeResponse,
}

impl Reply {
    /// `200 OK` with a small AGB envelope.
    pub fn ok() -> Self {
        Self::json(
            200,
            r#"{"success":true,"code":"ok","requestId":"RID-OK","data":{}}"#,
        )
    }

    /// A JSON body with `status`.
    pub fn json(status: u16, body: &str) -> Self {
        Self::Status {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// Adds a header to a [`Reply::Status`].
    pub fn header(self, name: &'static str, value: &str) -> Self {
        match self {
            Self::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_owned()));
                Self::Status {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// Delays this reply.
    pub fn after(self, delay: Duration) -> Self {
        Self::Delay(delay, Box::new(self))
    }
}

/// Shared counters and the script.
#[derive(Debug)]
pub struct State {
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    pub accepted: AtomicUsize,
    pub requests: AtomicUsize,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub headers: Mutex<Vec<HeaderMap>>,
}

/// The running server; it stops when dropped.
#[derive(Debug)]
pub struct FaultServer {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How accepted sockets are wrapped.
#[derive(Clone)]
pub enum Tls {
    Plain,
    Rustls(Arc<rustls::ServerConfig>),
}

impl FaultServer {
    /// Starts a plain HTTP server on a free port.
    pub async fn start(script: impl IntoIterator<Item = Reply>, default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, script, default, Tls::Plain)
    }

    /// Starts a server on an existing listener.
    pub fn serve(
        listener: TcpListener,
        script: impl IntoIterator<Item = Reply>,
        default: Reply,
        tls: Tls,
    ) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            script: Mutex::new(script.into_iter().collect()),
            default,
            accepted: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            headers: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone(), tls));
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, tls: Tls) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        state.accepted.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        // A second handle on the socket, to reset it (zero linger, then close) on demand.
        let Ok((stream, reset_handle)) = duplicate(stream) else {
            continue;
        };
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Tls::Plain => serve_connection(stream, state, reset_handle).await,
                Tls::Rustls(config) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(config);
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_connection(stream, state, reset_handle).await;
                    }
                }
            }
        });
    }
}

fn duplicate(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let handle = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, handle))
}

async fn serve_connection<S>(stream: S, state: Arc<State>, reset_handle: std::net::TcpStream)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (kill_tx, mut kill_rx) = mpsc::unbounded_channel::<()>();
    let service = service_fn(move |request: Request<Incoming>| {
        let state = state.clone();
        let kill = kill_tx.clone();
        async move { Ok::<_, Infallible>(handle(request, state, kill).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = kill_rx.recv() => {
            // Zero linger turns the final close into a RST.
            if let Ok(handle) = TcpStream::from_std(reset_handle) {
                let _ = handle.set_zero_linger();
            }
        }
    }
}

struct InFlight(Arc<State>);

impl InFlight {
    fn enter(state: &Arc<State>) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<State>,
    kill: mpsc::UnboundedSender<()>,
) -> Response<TestBody> {
    let _in_flight = InFlight::enter(&state);
    state.requests.fetch_add(1, Ordering::SeqCst);
    state
        .headers
        .lock()
        .expect("headers lock")
        .push(request.headers().clone());
    let _ = http_body_util::BodyExt::collect(request.into_body()).await;
    let reply = state
        .script
        .lock()
        .expect("script lock")
        .pop_front()
        .unwrap_or_else(|| state.default.clone());
    respond(reply, kill).await
}

async fn respond(mut reply: Reply, kill: mpsc::UnboundedSender<()>) -> Response<TestBody> {
    while let Reply::Delay(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut builder = Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("x-request-id", "RID-HEADER");
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(TestBody::full(body)).expect("valid response")
        }
        Reply::Truncated { declared, sent } => Response::builder()
            .header("content-length", declared)
            .header("x-request-id", "RID-TRUNCATED")
            .body(TestBody::partial(sent, None))
            .expect("valid response"),
        Reply::ResetMidResponse { partial } => Response::builder()
            .header("content-length", partial.len() * 10)
            .header("x-request-id", "RID-RESET")
            .body(TestBody::partial(partial, Some(kill)))
            .expect("valid response"),
        Reply::ResetBeforeResponse => {
            let _ = kill.send(());
            std::future::pending().await
        }
        Reply::Delay(..) => unreachable!("delays are unwrapped above"),
    }
}

/// A response body: whole, or a part that ends early or resets the connection.
pub struct TestBody {
    chunk: Option<Bytes>,
    /// After the chunk: wait so the part reaches the client, then end or reset.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    kill: Option<mpsc::UnboundedSender<()>>,
}

impl TestBody {
    fn full(body: String) -> Self {
        Self {
            chunk: Some(Bytes::from(body)),
            pause: None,
            kill: None,
        }
    }

    fn partial(body: &'static str, kill: Option<mpsc::UnboundedSender<()>>) -> Self {
        Self {
            chunk: Some(Bytes::from_static(body.as_bytes())),
            pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(100)))),
            kill,
        }
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(chunk) = self.chunk.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        match self.kill.take() {
            None => Poll::Ready(None),
            Some(kill) => {
                let _ = kill.send(());
                Poll::Pending
            }
        }
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, and a server config using it.
pub struct SelfSigned {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl SelfSigned {
    pub fn generate() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("certificate");
        let cert_der = certified.cert.der().to_vec();
        let cert_pem = certified.cert.pem();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone().into()], key)
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self {
            cert_der,
            cert_pem,
            server_config: Arc::new(config),
        }
    }
}
