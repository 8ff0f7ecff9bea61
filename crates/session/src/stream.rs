//! Live `run_code` events over the session's WebSocket (`wsUrl`, agb-protocol.md §7).
//!
//! One connection per streamed run: connect with `X-Access-Token`, send the `run_code`
//! invocation, fold the event frames with [`RunCodeStream`] and yield each one as it arrives,
//! until the `end` frame.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};

use agbcloud_wire::stream::{
    ClientFrame, DEFAULT_CODE_TARGET, RunCodeStream, ServerFrame, StreamData, StreamEventKind,
    StreamRunCodeParams, StreamStep,
};
use agbcloud_wire::tools::code::Language;
use futures_util::{SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::code::{CodeEvent, CodeRun};
use crate::error::{Error, Result};
use crate::session::Session;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a streamed run needs.
pub(crate) struct StreamRequest {
    pub(crate) code: String,
    pub(crate) language: Language,
    pub(crate) timeout_s: u64,
}

/// Whether `session` can stream: it has a `ws://` URL and a token.
pub(crate) fn can_stream(session: &Session) -> bool {
    let data = session.data();
    data.ws_url
        .as_deref()
        .is_some_and(|url| url.starts_with("ws://"))
        && data.token.as_deref().is_some_and(|token| !token.is_empty())
}

enum State {
    Start(Session, StreamRequest),
    Reading {
        socket: Box<Socket>,
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
                    Ok((socket, id)) => State::Reading {
                        socket: Box::new(socket),
                        id,
                        fold: Box::default(),
                        pending: VecDeque::new(),
                    },
                    Err(error) => return Some((Err(error), State::Done)),
                },
                State::Reading {
                    mut socket,
                    id,
                    mut fold,
                    mut pending,
                } => {
                    if let Some(event) = pending.pop_front() {
                        let next = if matches!(event, CodeEvent::End(_)) {
                            let _ = (*socket).close(None).await;
                            State::Done
                        } else {
                            State::Reading {
                                socket,
                                id,
                                fold,
                                pending,
                            }
                        };
                        return Some((Ok(event), next));
                    }
                    let message = match socket.next().await {
                        Some(Ok(message)) => message,
                        Some(Err(error)) => {
                            return Some((
                                Err(ws_error("stream interrupted", error, true)),
                                State::Done,
                            ));
                        }
                        None => {
                            return Some((
                                Err(Error::Api {
                                    code: agbcloud_wire::ErrorCode::Other("WsClosed".into()),
                                    status: 0,
                                    message: "the stream closed before the end frame".into(),
                                    request_id: Some(id),
                                }),
                                State::Done,
                            ));
                        }
                    };
                    let Message::Text(text) = message else {
                        // Pings are answered by the library on the next read or write.
                        state = State::Reading {
                            socket,
                            id,
                            fold,
                            pending,
                        };
                        continue;
                    };
                    let frame = match ServerFrame::parse(text.as_str()) {
                        Ok(frame) if frame.invocation_id == id => frame,
                        Ok(_) => {
                            state = State::Reading {
                                socket,
                                id,
                                fold,
                                pending,
                            };
                            continue;
                        }
                        Err(source) => {
                            return Some((
                                Err(Error::Decode {
                                    what: "run_code stream frame".into(),
                                    source,
                                    request_id: Some(id),
                                }),
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
                            StreamEventKind::Error { error } => {
                                CodeEvent::Error(agbcloud_wire::tools::code::ExecutionError {
                                    name: error.code.clone(),
                                    value: error.message.clone(),
                                    traceback: String::new(),
                                })
                            }
                        });
                    }
                    match fold.push(&frame.data) {
                        StreamStep::Continue => {}
                        StreamStep::Finished | StreamStep::Failed(_) => {
                            let execution = std::mem::take(&mut *fold).finish();
                            let mut run = CodeRun::from_execution(execution, Some(id.clone()));
                            if let Some(CodeEvent::Error(error)) = pending.back() {
                                run.error.get_or_insert_with(|| error.clone());
                            }
                            pending.push_back(CodeEvent::End(Box::new(run)));
                        }
                    }
                    State::Reading {
                        socket,
                        id,
                        fold,
                        pending,
                    }
                }
            };
        }
    })
}

async fn start(session: &Session, request: StreamRequest) -> Result<(Socket, String)> {
    let data = session.data();
    let (Some(url), Some(token)) = (data.ws_url.as_deref(), data.token.as_deref()) else {
        return Err(Error::invalid("ws_url is not available for this session"));
    };
    let mut handshake = url
        .into_client_request()
        .map_err(|error| Error::invalid(format!("invalid wsUrl {url:?}: {error}")))?;
    let token = token
        .parse()
        .map_err(|_| Error::invalid("the session token is not a valid header value"))?;
    handshake.headers_mut().insert("X-Access-Token", token);
    let (mut socket, _) = tokio_tungstenite::connect_async(handshake)
        .await
        .map_err(|error| ws_error("cannot open the stream", error, false))?;
    let id = invocation_id();
    let target = data
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
    socket
        .send(Message::text(frame.to_json()))
        .await
        .map_err(|error| ws_error("cannot send the invocation", error, true))?;
    Ok((socket, id))
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
