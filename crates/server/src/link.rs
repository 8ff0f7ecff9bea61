//! The LinkUrl route (§3.3): `POST {linkUrl}/callTool`, authenticated by the session token
//! in `X-Access-Token`; an unknown or released token gets a non-2xx status.

use agbcloud_wire::tools::link::{ACCESS_TOKEN_HEADER, render_link_response};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use serde_json::{Map, Value};

use crate::app::App;
use crate::envelope::{ApiError, REQUEST_ID_HEADER};
use crate::tools;

fn token_of<'a>(request: &'a Request<Bytes>, body: &'a Map<String, Value>) -> Option<&'a str> {
    request
        .headers()
        .get(ACCESS_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .or_else(|| body.get("token").and_then(Value::as_str))
        .filter(|token| !token.is_empty())
}

/// Answers a link-route call: `{"data": {"result": {"content": [...], "isError": bool}}}`.
pub async fn call_tool(app: &App, request: &Request<Bytes>, request_id: &str) -> Response<Bytes> {
    let body: Map<String, Value> = if request.body().iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(request.body()) {
            Ok(Value::Object(body)) => body,
            Ok(_) => {
                return ApiError::invalid("link call body must be a JSON object")
                    .into_response(request_id);
            }
            Err(err) => {
                return ApiError::invalid(format!("malformed JSON: {err}"))
                    .into_response(request_id);
            }
        }
    };
    let Some(session) = token_of(request, &body).and_then(|token| app.registry.by_token(token))
    else {
        return ApiError::unauthorized("unknown or expired session token")
            .into_response(request_id);
    };
    let Some(tool) = body
        .get("tool")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
    else {
        return ApiError::invalid("tool is required").into_response(request_id);
    };
    let arguments = match body.get("args") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(args)) => args.clone(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(args)) => args,
            _ => {
                return ApiError::invalid("args must be a JSON object").into_response(request_id);
            }
        },
        Some(_) => {
            return ApiError::invalid("args must be a JSON object").into_response(request_id);
        }
    };
    match tools::call(&app.config, &session, tool, &arguments).await {
        Ok(result) => {
            let mut response = Response::new(Bytes::from(render_link_response(&result)));
            *response.status_mut() = StatusCode::OK;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(value) = HeaderValue::from_str(request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            response
        }
        Err(err) => err.into_response(request_id),
    }
}
