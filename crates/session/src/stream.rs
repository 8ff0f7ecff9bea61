//! Live `run_code` events over the session's WebSocket (`wsUrl`, agb-protocol.md §7).
//!
//! One connection per session, opened on the first streamed run (handshake with
//! `X-Access-Token`) and shared by every stream of that session: a background task owns the
//! socket, sends invocations, answers pings and routes each server frame to its invocation by
//! id. The connection closes when the last handle of the session is dropped; a broken one
//! fails its pending streams and is reopened by the next run. A stream dropped before its end
//! stops listening (the run goes on remotely, as with the official SDK's `cancel()`).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

use agbcloud_wire::stream::{
    ClientFrame, DEFAULT_CODE_TARGET, RunCodeStream, ServerFrame, StreamData, StreamEventKind,
    StreamRunCodeParams, StreamStep,
};
use agbcloud_wire::tools::code::{ExecutionError, Language};
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::code::{CodeEvent, CodeRun};
use crate::error::{Error, Result};
use crate::session::Session;

/// What a streamed run needs.
pub(crate) struct StreamRequest {
    pub(crate) code: String,
    pub(crate) language: Language,
    pub(crate) timeout_s: u64,
}

/// A byte stream a WebSocket can run over.
pub trait StreamIo: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> StreamIo for T {}

/// Opens a session's stream connection without a socket: the embedded engine implements it
/// so that sessions it runs in-process stream too. Set it in
/// [`ClientOptions::ws_connector`](crate::ClientOptions::ws_connector).
pub trait WsConnector: Send + Sync + std::fmt::Debug {
    /// A byte stream to the WebSocket endpoint of the session holding `token` (the client
    /// speaks WebSocket over it), or `None` for an unknown token.
    fn connect(&self, token: &str) -> Option<Box<dyn StreamIo>>;
}

/// Whether `session` can stream: it has a token, and a `ws://` URL or a connector.
pub(crate) fn can_stream(session: &Session) -> bool {
    let data = session.data();
    let reachable = session.agb().options().ws_connector.is_some()
        || data
            .ws_url
            .as_deref()
            .is_some_and(|url| url.starts_with("ws://"));
    reachable && data.token.as_deref().is_some_and(|token| !token.is_empty())
}

/// Frames (or the connection's failure) of one invocation.
type Route = mpsc::UnboundedSender<Result<ServerFrame>>;

/// A request to the connection task: send `frame` and route the replies of `id` to `route`.
struct Invocation {
    id: String,
    frame: String,
    route: Route,
}

/// The session's shared WebSocket connection, opened lazily.
#[derive(Debug, Default)]
pub(crate) struct WsHub {
    sender: Mutex<Option<mpsc::UnboundedSender<Invocation>>>,
}

impl WsHub {
    /// Sends an invocation over the open connection, opening one first if there is none
    /// (or the last one broke).
    async fn invoke(&self, session: &Session, invocation: Invocation) -> Result<()> {
        let current = self
            .sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let invocation = match current {
            Some(sender) => match sender.send(invocation) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(invocation)) => invocation,
            },
            None => invocation,
        };
        let sender = connect(session).await?;
        let sent = sender.send(invocation).is_ok();
        *self
            .sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sender);
        if sent {
            Ok(())
        } else {
            Err(closed("the stream connection closed at once"))
        }
    }
}

/// Opens the socket (in-process through the client's [`WsConnector`] when it has one, else
/// TCP to `wsUrl`) and starts the task that owns it.
async fn connect(session: &Session) -> Result<mpsc::UnboundedSender<Invocation>> {
    let data = session.data();
    let Some(token) = data.token.as_deref().filter(|token| !token.is_empty()) else {
        return Err(Error::invalid("ws_url is not available for this session"));
    };
    let (sender, invocations) = mpsc::unbounded_channel();
    if let Some(connector) = &session.agb().options().ws_connector {
        let Some(io) = connector.connect(token) else {
            return Err(Error::SessionNotFound {
                session_id: session.id().to_owned(),
                request_id: None,
            });
        };
        let socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
            io,
            tokio_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await;
        tokio::spawn(drive(socket, invocations));
        return Ok(sender);
    }
    let Some(url) = data.ws_url.as_deref() else {
        return Err(Error::invalid("ws_url is not available for this session"));
    };
    let mut handshake = url
        .into_client_request()
        .map_err(|error| Error::invalid(format!("invalid wsUrl {url:?}: {error}")))?;
    let token = token
        .parse()
        .map_err(|_| Error::invalid("the session token is not a valid header value"))?;
    handshake.headers_mut().insert("X-Access-Token", token);
    let (socket, _) = tokio_tungstenite::connect_async(handshake)
        .await
        .map_err(|error| ws_error("cannot open the stream", error, false))?;
    tokio::spawn(drive(socket, invocations));
    Ok(sender)
}

/// Owns the socket: sends invocations, routes frames, fails every route when it breaks.
async fn drive<T>(
    mut socket: tokio_tungstenite::WebSocketStream<T>,
    mut invocations: mpsc::UnboundedReceiver<Invocation>,
) where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    let mut routes: HashMap<String, Route> = HashMap::new();
    let failure = loop {
        tokio::select! {
            invocation = invocations.recv() => {
                let Some(invocation) = invocation else {
                    let _ = socket.close(None).await;
                    return;
                };
                if let Err(error) = socket.send(Message::text(invocation.frame)).await {
                    let _ = invocation.route.send(Err(ws_error("cannot send the invocation", error, true)));
                    break "the stream connection broke while sending".to_owned();
                }
                routes.insert(invocation.id, invocation.route);
            }
            message = socket.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => break "the server closed the stream connection".to_owned(),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => break format!("the stream connection broke: {error}"),
                };
                let frame = match ServerFrame::parse(text.as_str()) {
                    Ok(frame) => frame,
                    Err(error) => {
                        tracing::debug!(%error, "dropping an undecodable stream frame");
                        continue;
                    }
                };
                let last = !matches!(frame.data, StreamData::Event(_));
                let id = frame.invocation_id.clone();
                let delivered = routes.get(&id).is_some_and(|route| route.send(Ok(frame)).is_ok());
                if last || !delivered {
                    routes.remove(&id);
                }
            }
        }
    };
    for (_, route) in routes {
        let _ = route.send(Err(closed(&failure)));
    }
}

fn closed(message: &str) -> Error {
    Error::Transport(agbcloud_transport::TransportError::interrupted(
        message.to_owned(),
    ))
}

enum State {
    Start(Session, StreamRequest),
    Reading {
        /// Keeps the session, and so its connection, alive until the end frame.
        session: Session,
        frames: mpsc::UnboundedReceiver<Result<ServerFrame>>,
        id: String,
        fold: Box<RunCodeStream>,
        pending: VecDeque<CodeEvent>,
    },
    Done,
}

/// The events of one run, live. Ends after [`CodeEvent::End`] or an error.
pub(crate) fn run_stream(
    session: Session,
    request: StreamRequest,
) -> impl Stream<Item = Result<CodeEvent>> + Send + 'static {
    futures_util::stream::unfold(State::Start(session, request), |state| async move {
        let mut state = state;
        loop {
            state = match state {
                State::Done => return None,
                State::Start(session, request) => match start(&session, request).await {
                    Ok((frames, id)) => State::Reading {
                        session,
                        frames,
                        id,
                        fold: Box::default(),
                        pending: VecDeque::new(),
                    },
                    Err(error) => return Some((Err(error), State::Done)),
                },
                State::Reading {
                    session,
                    mut frames,
                    id,
                    mut fold,
                    mut pending,
                } => {
                    if let Some(event) = pending.pop_front() {
                        let next = if matches!(event, CodeEvent::End(_)) {
                            State::Done
                        } else {
                            State::Reading {
                                session,
                                frames,
                                id,
                                fold,
                                pending,
                            }
                        };
                        return Some((Ok(event), next));
                    }
                    let frame = match frames.recv().await {
                        Some(Ok(frame)) => frame,
                        Some(Err(error)) => return Some((Err(error), State::Done)),
                        None => {
                            return Some((
                                Err(closed("the stream ended before its end frame")),
                                State::Done,
                            ));
                        }
                    };
                    if let StreamData::Event(event) = &frame.data {
                        pending.push_back(match &event.kind {
                            StreamEventKind::Stdout { chunk } => CodeEvent::Stdout(chunk.clone()),
                            StreamEventKind::Stderr { chunk } => CodeEvent::Stderr(chunk.clone()),
                            StreamEventKind::Result { result } => {
                                CodeEvent::Result(result.to_result())
                            }
                            StreamEventKind::Error { error } => CodeEvent::Error(ExecutionError {
                                name: error.code.clone(),
                                value: error.message.clone(),
                                traceback: String::new(),
                            }),
                        });
                    }
                    match fold.push(&frame.data) {
                        StreamStep::Continue => {}
                        StreamStep::Finished | StreamStep::Failed(_) => {
                            let execution = std::mem::take(&mut *fold).finish();
                            let run = CodeRun::from_execution(execution, Some(id.clone()));
                            pending.push_back(CodeEvent::End(Box::new(run)));
                        }
                    }
                    State::Reading {
                        session,
                        frames,
                        id,
                        fold,
                        pending,
                    }
                }
            };
        }
    })
}

async fn start(
    session: &Session,
    request: StreamRequest,
) -> Result<(mpsc::UnboundedReceiver<Result<ServerFrame>>, String)> {
    let id = invocation_id();
    let target = session
        .data()
        .server_of("run_code")
        .unwrap_or(DEFAULT_CODE_TARGET)
        .to_owned();
    let frame = ClientFrame::run_code(
        id.clone(),
        target,
        StreamRunCodeParams {
            language: request.language.as_str().to_owned(),
            timeout_s: request.timeout_s,
            code: request.code,
        },
    );
    let (route, frames) = mpsc::unbounded_channel();
    session
        .ws_hub()
        .invoke(
            session,
            Invocation {
                id: id.clone(),
                frame: frame.to_json(),
                route,
            },
        )
        .await?;
    Ok((frames, id))
}

/// Maps a WebSocket failure; `connected` tells whether the invocation may have been sent.
fn ws_error(what: &str, error: tokio_tungstenite::tungstenite::Error, connected: bool) -> Error {
    use agbcloud_transport::TransportError;
    use tokio_tungstenite::tungstenite::Error as Ws;
    match error {
        Ws::Http(response) if matches!(response.status().as_u16(), 401 | 403) => {
            Error::Unauthenticated {
                message: format!(
                    "{what}: WebSocket handshake rejected with HTTP {}",
                    response.status()
                ),
                request_id: None,
            }
        }
        Ws::Io(io) if connected => Error::Transport(TransportError::interrupted(io)),
        Ws::Io(io) => Error::Transport(TransportError::connect(io)),
        other => Error::Api {
            code: agbcloud_wire::ErrorCode::Other("WsError".into()),
            status: 0,
            message: format!("{what}: {other}"),
            request_id: None,
        },
    }
}

/// 32 hex digits, like a uuid4 without dashes.
fn invocation_id() -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut high = state.build_hasher();
    high.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let mut low = state.build_hasher();
    low.write_u64(high.finish());
    format!("{:016x}{:016x}", high.finish(), low.finish())
}
