//! The REST API: one function from a complete request to a complete response, used by the
//! socket server and, with no socket, by the embedded engine.

use std::sync::Arc;

use agbcloud_wire::endpoint::{self, Method};
use agbcloud_wire::session::{
    CreateSessionParams, GetLabelParams, GetLinkParams, GetMcpResourceParams, GetSessionInfoParams,
    GetSessionParams, LabelsData, ListSessionParams, ListToolsParams, McpResourceData,
    RefreshSessionIdleTimeParams, ReleaseSessionAsyncParams, ReleaseSessionParams, SessionData,
    SessionStatusData, SessionSummary, SetLabelParams, ToolsData, status,
};
use agbcloud_wire::tools::CallToolParams;
use agbcloud_wire::tools::link::CALL_TOOL_PATH;
use agbcloud_wire::{Envelope, decode_params};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth::{Tenant, authenticate};
use crate::envelope::{self, ApiError, json_response, new_request_id};
use crate::registry::Session;
use crate::{link, tools};

/// The path prefix of `linkUrl` (the link route is `POST /link/callTool`).
pub const LINK_PREFIX: &str = "/link";

/// The path of `wsUrl`.
pub const WS_PATH: &str = "/ws";

/// Host used in URLs of the embedded engine, which has no socket.
pub const EMBEDDED_AUTHORITY: &str = "embedded.agb.local";

/// The API router: cheap to clone.
#[derive(Debug, Clone)]
pub struct Router {
    app: Arc<App>,
}

/// Collapses repeated slashes (the Python SDK sends `//mcp` for an endpoint with a trailing
/// slash).
pub fn normalise_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

struct Call<'a> {
    app: &'a App,
    tenant: Tenant,
    query: &'a str,
    body: &'a [u8],
}

impl Call<'_> {
    fn decode<P: DeserializeOwned>(&self) -> Result<P, ApiError> {
        decode_params(self.query, self.body).map_err(|err| ApiError::bad_request(&err))
    }

    /// A 400 naming `args` when it is not a JSON object (or a JSON string of one).
    fn diagnose_args(&self) -> Option<ApiError> {
        let body: serde_json::Value = serde_json::from_slice(self.body).ok()?;
        let problem = match body.get("args")? {
            serde_json::Value::String(text) => {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(_)) => return None,
                    Ok(_) => "it does not encode a JSON object".to_owned(),
                    Err(err) => err.to_string(),
                }
            }
            serde_json::Value::Object(_) => return None,
            _ => "it is neither a string nor an object".to_owned(),
        };
        Some(ApiError::invalid(format!(
            "invalid request: args must be a JSON object encoded as a string: {problem}"
        )))
    }

    fn session(&self, id: &str) -> Result<Arc<Session>, ApiError> {
        if id.is_empty() {
            return Err(ApiError::invalid("sessionId is required"));
        }
        self.app.registry.get(&self.tenant, id)
    }
}

impl Router {
    /// A router over `app`.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    /// The shared state.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Answers one complete request. Never panics on any input; every response is a JSON
    /// envelope with a request id (in `requestId` and `x-request-id`).
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let request_id = new_request_id();
        let max_body = self.app.config.max_body;
        if request.body().len() > max_body {
            return ApiError::too_large(max_body).into_response(&request_id);
        }
        let path = normalise_path(request.uri().path());
        if request.method() == http::Method::POST
            && path == format!("{LINK_PREFIX}{CALL_TOOL_PATH}")
        {
            return link::call_tool(&self.app, &request, &request_id).await;
        }
        match self.route(&request, &path, &request_id).await {
            Ok(response) => response,
            Err(err) => err.into_response(&request_id),
        }
    }

    async fn route(
        &self,
        request: &Request<Bytes>,
        path: &str,
        rid: &str,
    ) -> Result<Response<Bytes>, ApiError> {
        let method = match *request.method() {
            http::Method::GET => Method::Get,
            http::Method::POST => Method::Post,
            ref other => return Err(ApiError::no_route(other.as_str(), path)),
        };
        let endpoint = endpoint::find(method, path)
            .ok_or_else(|| ApiError::no_route(method.as_str(), path))?;
        let tenant = authenticate(&self.app.config, request.headers())?;
        let call = Call {
            app: &self.app,
            tenant,
            query: request.uri().query().unwrap_or(""),
            body: request.body(),
        };
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .map(str::to_owned);
        match endpoint.name {
            "CreateSession" => self.create(call, rid, host.as_deref()).await,
            "GetSession" => {
                let params: GetSessionParams = call.decode()?;
                let session = call.session(&params.session_id)?;
                let mut data = self.session_data(&session, host.as_deref());
                data.status = Some(status::RUNNING.to_owned());
                Ok(envelope::ok(rid, data))
            }
            "GetSessionInfo" => {
                let params: GetSessionInfoParams = call.decode()?;
                call.session(&params.session_id)?;
                Ok(envelope::ok(
                    rid,
                    SessionStatusData {
                        status: status::RUNNING.to_owned(),
                    },
                ))
            }
            "ReleaseSessionAsync" => {
                let params: ReleaseSessionAsyncParams = call.decode()?;
                let session = self.app.registry.remove(&call.tenant, &params.session_id)?;
                self.app.release_in_background(session);
                Ok(envelope::ok_empty(rid))
            }
            "ReleaseSession" => {
                let params: ReleaseSessionParams = call.decode()?;
                let session = self.app.registry.remove(&call.tenant, &params.session_id)?;
                tracing::info!(session = %session.id, "session released");
                session.destroy().await;
                Ok(envelope::ok_empty(rid))
            }
            "ListSession" => {
                let params: ListSessionParams = call.decode()?;
                let max = params.max_results.clamp(1, 1000);
                let page = self.app.registry.list(
                    &call.tenant,
                    &params.labels,
                    max as usize,
                    params.next_token.as_deref(),
                )?;
                let data: Vec<SessionSummary> = page
                    .ids
                    .into_iter()
                    .map(|session_id| SessionSummary {
                        session_id,
                        session_status: status::RUNNING.to_owned(),
                    })
                    .collect();
                let body = Envelope::ok(rid, data).with_pagination(
                    Some(page.next_token.unwrap_or_default()),
                    Some(max),
                    Some(page.count),
                );
                Ok(json_response(StatusCode::OK, rid, &body))
            }
            "RefreshSessionIdleTime" => {
                let params: RefreshSessionIdleTimeParams = call.decode()?;
                call.session(&params.session_id)?.touch();
                Ok(envelope::ok_empty(rid))
            }
            "CallMcpTool" => {
                let params: CallToolParams = call
                    .decode()
                    .map_err(|err| call.diagnose_args().unwrap_or(err))?;
                let session = call.session(&params.session_id)?;
                if params.name.is_empty() {
                    return Err(ApiError::invalid("name (the tool name) is required"));
                }
                let data =
                    tools::call(&self.app.config, &session, &params.name, &params.args).await?;
                Ok(envelope::ok(rid, data))
            }
            "ListMcpTools" => {
                let _params: ListToolsParams = call.decode()?;
                Ok(envelope::ok(rid, ToolsData(tools::catalog())))
            }
            "GetMcpResource" => {
                let params: GetMcpResourceParams = call.decode()?;
                let session = call.session(&params.session_id)?;
                Ok(envelope::ok(
                    rid,
                    McpResourceData {
                        session_id: session.id.clone(),
                        resource_url: self.resource_url(&session, host.as_deref()),
                        desktop_info: None,
                    },
                ))
            }
            "SetLabel" => {
                let params: SetLabelParams = call.decode()?;
                call.session(&params.session_id)?.set_labels(params.labels);
                Ok(envelope::ok_empty(rid))
            }
            "GetLabel" => {
                let params: GetLabelParams = call.decode()?;
                let labels = call.session(&params.session_id)?.labels();
                let count = labels.len() as u64;
                Ok(envelope::ok(
                    rid,
                    LabelsData {
                        labels,
                        count: Some(count),
                        next_token: None,
                        max_results: params.max_results,
                    },
                ))
            }
            "GetLink" | "McpGetLink" => {
                let params: GetLinkParams = call.decode()?;
                call.session(&params.session_id)?;
                Err(ApiError::not_implemented("port forwarding (getLink)"))
            }
            other => Err(ApiError::not_implemented(other)),
        }
    }

    async fn create(
        &self,
        call: Call<'_>,
        rid: &str,
        host: Option<&str>,
    ) -> Result<Response<Bytes>, ApiError> {
        let params: CreateSessionParams = call.decode()?;
        if params.image_id.trim().is_empty() {
            return Err(ApiError::invalid("imageId is required"));
        }
        if params.session_id.is_some() || params.context_id.is_some() {
            tracing::debug!("createSession: sessionId/contextId are ignored");
        }
        if !params.persistence_data_list.is_empty() {
            return Err(ApiError::not_implemented(
                "context mounting (persistenceDataList)",
            ));
        }
        let session = self
            .app
            .create_session(
                call.tenant,
                params.image_id.trim(),
                params.labels.unwrap_or_default(),
                params.timeout,
            )
            .await?;
        let mut data = self.session_data(&session, host);
        data.success = Some(true);
        Ok(envelope::ok(rid, data))
    }

    fn base(&self, host: Option<&str>) -> (String, Option<String>) {
        match self.app.public() {
            Some(public) => (public.http.clone(), Some(public.ws.clone())),
            None => (
                format!("http://{}", host.unwrap_or(EMBEDDED_AUTHORITY)),
                None,
            ),
        }
    }

    fn resource_url(&self, session: &Session, host: Option<&str>) -> String {
        let (http, _) = self.base(host);
        format!(
            "{http}/resource?resourceId={}&sessionId={}",
            session.resource_id(),
            session.id
        )
    }

    fn session_data(&self, session: &Session, host: Option<&str>) -> SessionData {
        let (http, ws) = self.base(host);
        let streaming = ws.is_some();
        SessionData {
            session_id: Some(session.id.clone()),
            success: None,
            err_msg: None,
            resource_url: Some(self.resource_url(session, host)),
            app_instance_id: Some(session.app_instance_id()),
            resource_id: Some(session.resource_id()),
            task_id: None,
            network_interface_ip: None,
            link_url: (streaming && self.app.config.link_route)
                .then(|| format!("{http}{LINK_PREFIX}")),
            ws_url: ws.map(|ws| format!("{ws}{WS_PATH}")),
            token: Some(session.token.clone()),
            tool_list: Some(tools::routes()),
            status: None,
        }
    }
}
