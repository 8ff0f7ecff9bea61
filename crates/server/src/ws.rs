//! WebSocket streaming (§7): the handshake at `wsUrl` with `X-Access-Token`, and `run_code`
//! invocations whose stdout, stderr and results are forwarded as they happen.

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::kernel::KernelEvent;
use agbcloud_wire::stream::{
    ClientFrame, ClientMessage, EndStatus, ServerFrame, StreamData, StreamEnd, StreamErrorInfo,
    StreamEvent, StreamEventKind, StreamFailure, StreamResult, StreamRunCodeParams,
};
use agbcloud_wire::tools::link::ACCESS_TOKEN_HEADER;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::app::App;
use crate::envelope::{ApiError, REQUEST_ID_HEADER, new_request_id};
use crate::registry::Session;
use crate::tools::{self, code};

/// Largest frame the Python client accepts (its `websockets` default).
const MAX_FRAME: usize = 1 << 20;

/// Largest text chunk put in one frame (the Python client drops frames over 1 MiB; JSON
/// escaping can double the size).
const MAX_CHUNK: usize = 256 << 10;

/// True when `request` asks for a WebSocket upgrade.
pub fn is_upgrade(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

fn token(request: &Request<Incoming>) -> Option<String> {
    if let Some(token) = request
        .headers()
        .get(ACCESS_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
    {
        return Some(token.to_owned());
    }
    agbcloud_wire::decode_query(request.uri().query().unwrap_or(""))
        .into_iter()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value)
}

/// Answers a handshake: 101 and a streaming task, or a non-101 envelope (unknown or
/// released token: 401).
pub fn upgrade(
    app: Arc<App>,
    mut request: Request<Incoming>,
    closing: watch::Receiver<bool>,
) -> Response<Bytes> {
    let request_id = new_request_id();
    let Some(session) = token(&request).and_then(|token| app.registry.by_token(&token)) else {
        return ApiError::unauthorized("unknown or expired session token")
            .into_response(&request_id);
    };
    let Some(key) = request.headers().get("sec-websocket-key") else {
        return ApiError::invalid("missing Sec-WebSocket-Key").into_response(&request_id);
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let cap = app.config.max_body;
                let config = WebSocketConfig::default()
                    .max_message_size(Some(cap))
                    .max_frame_size(Some(cap));
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                serve(app, session, socket, closing).await;
            }
            Err(err) => tracing::debug!(error = %err, "websocket upgrade failed"),
        }
    });
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert("sec-websocket-accept", accept);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Runs one connection: reads frames (answering pings), starts invocations, writes their
/// frames, until the client leaves or the server closes.
pub async fn serve<S>(
    app: Arc<App>,
    session: Arc<Session>,
    socket: WebSocketStream<S>,
    mut closing: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        sink.close().await.ok();
    });
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    on_text(&app, &session, text.as_str(), &tx);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {} // pings are answered by the protocol layer
            },
            _ = closing.changed() => break,
        }
    }
    drop(tx);
    // Let invocations still running finish writing, but not forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

fn on_text(
    app: &Arc<App>,
    session: &Arc<Session>,
    text: &str,
    tx: &mpsc::UnboundedSender<Message>,
) {
    let frame: ClientFrame = match ClientMessage::parse(text) {
        Ok(ClientMessage::Invoke(frame)) => frame,
        Ok(_) => return,
        Err(err) => {
            // Answer a malformed invocation that names itself, so its caller does not wait.
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|value| value.get("invocationId")?.as_str().map(str::to_owned));
            match id {
                Some(invocation_id) => Sender {
                    tx: tx.clone(),
                    invocation_id,
                    source: tools::CODE_SERVER.to_owned(),
                }
                .data(StreamData::Error(StreamFailure {
                    error: Some(format!("invalid invocation frame: {err}")),
                })),
                None => tracing::debug!(error = %err, "ignoring an undecodable websocket frame"),
            }
            return;
        }
    };
    let source = if frame.target.is_empty() {
        tools::CODE_SERVER.to_owned()
    } else {
        frame.target.clone()
    };
    let send = Sender {
        tx: tx.clone(),
        invocation_id: frame.invocation_id.clone(),
        source,
    };
    if app.registry.by_token(&session.token).is_none() {
        send.data(StreamData::Error(StreamFailure {
            error: Some("Session not found".to_owned()),
        }));
        return;
    }
    if frame.data.method != "run_code" {
        send.data(StreamData::Error(StreamFailure {
            error: Some(format!(
                "method {:?} cannot be streamed; only run_code can",
                frame.data.method
            )),
        }));
        return;
    }
    let params: StreamRunCodeParams = match frame.params_as() {
        Ok(params) => params,
        Err(err) => {
            send.data(StreamData::Error(StreamFailure {
                error: Some(format!("invalid run_code params: {err}")),
            }));
            return;
        }
    };
    tokio::spawn(run_code(Arc::clone(session), params, send));
}

/// Writes the frames of one invocation.
struct Sender {
    tx: mpsc::UnboundedSender<Message>,
    invocation_id: String,
    source: String,
}

impl Sender {
    fn data(&self, data: StreamData) {
        let frame = ServerFrame::new(self.invocation_id.clone(), self.source.clone(), data);
        let mut json = frame.to_json();
        if json.len() >= MAX_FRAME {
            // Only a rich result can be this large (text is chunked): say so instead of
            // sending a frame the client would close the connection over.
            let note = StreamData::Event(StreamEvent {
                seq: None,
                kind: StreamEventKind::Stderr {
                    chunk: format!(
                        "[a result of {} bytes was not streamed: frames are limited to 1 MiB]\n",
                        json.len()
                    ),
                },
            });
            json =
                ServerFrame::new(self.invocation_id.clone(), self.source.clone(), note).to_json();
        }
        self.tx.send(Message::text(json)).ok();
    }

    fn event(&self, seq: &mut u64, kind: StreamEventKind) {
        *seq += 1;
        self.data(StreamData::Event(StreamEvent {
            seq: Some(*seq),
            kind,
        }));
    }

    fn chunks(&self, seq: &mut u64, text: &str, stderr: bool) {
        for piece in split_chunks(text, MAX_CHUNK) {
            let chunk = piece.to_owned();
            let kind = if stderr {
                StreamEventKind::Stderr { chunk }
            } else {
                StreamEventKind::Stdout { chunk }
            };
            self.event(seq, kind);
        }
    }

    fn kernel_event(&self, seq: &mut u64, event: KernelEvent) {
        match event {
            KernelEvent::Stdout(text) => self.chunks(seq, &text, false),
            KernelEvent::Stderr(text) => self.chunks(seq, &text, true),
            KernelEvent::Result(result) => self.event(
                seq,
                StreamEventKind::Result {
                    result: StreamResult {
                        mime: code::mime_map(&result),
                        is_main_result: result.is_main_result,
                    },
                },
            ),
            KernelEvent::Error(error) => self.event(
                seq,
                StreamEventKind::Error {
                    error: StreamErrorInfo {
                        code: error.name,
                        message: error.value,
                        trace_id: String::new(),
                    },
                },
            ),
        }
    }
}

/// Splits `text` into pieces of at most `max` bytes, on character boundaries.
fn split_chunks(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        pieces.push(head);
        rest = tail;
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest);
    }
    pieces
}

async fn run_code(session: Arc<Session>, params: StreamRunCodeParams, send: Sender) {
    let _activity = session.activity();
    let (events_tx, mut events) = mpsc::unbounded_channel::<KernelEvent>();
    let mut seq = 0;
    let timeout = code::timeout(params.timeout_s);
    let execution = code::execute(
        &session,
        &params.language,
        &params.code,
        timeout,
        Some(&events_tx),
    );
    tokio::pin!(execution);
    let outcome = loop {
        tokio::select! {
            biased;
            Some(event) = events.recv() => send.kernel_event(&mut seq, event),
            outcome = &mut execution => break outcome,
        }
    };
    while let Ok(event) = events.try_recv() {
        send.kernel_event(&mut seq, event);
    }
    seq += 1;
    let end = match outcome {
        Ok(execution) => StreamEnd {
            seq: Some(seq),
            status: EndStatus::Finished,
            execution_count: i64::try_from(execution.execution_count).ok(),
            execution_time: execution.execution_time.as_secs_f64(),
            execution_error: code::execution_error(&execution),
        },
        Err(err) => StreamEnd {
            seq: Some(seq),
            status: EndStatus::Failed,
            execution_count: None,
            execution_time: 0.0,
            execution_error: Some(err.to_string()),
        },
    };
    send.data(StreamData::End(end));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_on_char_boundaries() {
        let text = "é".repeat(10);
        let pieces = split_chunks(&text, 5);
        assert!(pieces.iter().all(|piece| piece.len() <= 5));
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_chunks("", 5), vec![""]);
    }
}
