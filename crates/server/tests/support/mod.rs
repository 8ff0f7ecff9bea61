//! A real server on 127.0.0.1:0 and a small hyper client for the integration tests.
#![allow(dead_code, unreachable_pub)]

use agbcloud_server::{RunningServer, Server, ServerConfig};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// A running server and a client for it.
pub struct Harness {
    pub server: RunningServer,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

/// A response: status, headers, JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The text of a tool call.
    pub fn text(&self) -> String {
        self.body["data"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn is_error(&self) -> bool {
        self.body["data"]["isError"] == json!(true)
    }
}

pub fn localhost() -> std::net::SocketAddr {
    ([127, 0, 0, 1], 0).into()
}

/// A server accepting keys `key-a` and `key-b`.
pub fn config() -> ServerConfig {
    ServerConfig::new(localhost(), ["key-a".to_owned(), "key-b".to_owned()])
}

pub async fn start(config: ServerConfig) -> Harness {
    let server = Server::bind(config).await.expect("server binds").spawn();
    let client = Client::builder(TokioExecutor::new()).build_http();
    Harness { server, client }
}

impl Harness {
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        key: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.url()))
            .header("content-type", "application/json");
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let request = request.body(Full::new(body.into())).expect("request");
        let response = self.client.request(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path_and_query: &str, key: &str, body: Value) -> Reply {
        self.raw(
            Method::POST,
            path_and_query,
            Some(key),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Creates a session for `key`; returns the session object.
    pub async fn create(&self, key: &str, body: Value) -> Value {
        let reply = self
            .post("/mcp/createSession?imageId=agb-code-space-1", key, body)
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.data().clone()
    }

    pub async fn create_id(&self, key: &str) -> String {
        self.create(key, json!({})).await["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned()
    }

    /// Calls a tool through `POST /mcp`.
    pub async fn tool(&self, key: &str, session: &str, name: &str, args: Value) -> Reply {
        self.post(
            "/mcp?autoGenSession=false",
            key,
            json!({"args": args.to_string(), "sessionId": session, "name": name}),
        )
        .await
    }

    pub async fn info(&self, key: &str, session: &str) -> Reply {
        self.post("/mcp/getSessionInfo", key, json!({ "sessionId": session }))
            .await
    }
}

/// Asserts the envelope of a "no such session" failure.
pub fn assert_not_found(reply: &Reply) {
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert_eq!(reply.body["success"], json!(false));
    assert_eq!(reply.body["code"], "InvalidMcpSession.NotFound");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("not found")
    );
    assert!(reply.body.get("data").is_none());
}
