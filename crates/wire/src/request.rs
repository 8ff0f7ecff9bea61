//! Sans-IO request building (client side) and request decoding (server side).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::endpoint::{Endpoint, Method};
use crate::envelope::Envelope;
use crate::error::WireError;

/// A typed parameter set for one endpoint, and the type of that endpoint's response `data`.
///
/// The params type serialises to a flat JSON object whose keys are the wire names; each key is
/// either a query parameter or a body field of [`ApiCall::ENDPOINT`].
pub trait ApiCall: Serialize + DeserializeOwned {
    /// The endpoint these params are sent to.
    const ENDPOINT: &'static Endpoint;
    /// The type of the response envelope's `data`.
    type Data: Serialize + DeserializeOwned;

    /// Builds the request for these params.
    fn to_request(&self) -> Result<ApiRequest, WireError> {
        ApiRequest::for_endpoint(Self::ENDPOINT, self)
    }
}

/// An HTTP request ready to send: method and path come from the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// The endpoint descriptor.
    pub endpoint: &'static Endpoint,
    /// Query parameters, in the endpoint's declared order, values not yet encoded.
    pub query: Vec<(String, String)>,
    /// The JSON body: `None` for GET, `{}` for a POST without body fields.
    pub body: Option<Vec<u8>>,
}

impl ApiRequest {
    /// Builds the request for `params`.
    pub fn new<C: ApiCall>(params: &C) -> Result<Self, WireError> {
        Self::for_endpoint(C::ENDPOINT, params)
    }

    /// Builds a request for `endpoint` from any params type whose fields are its wire names.
    ///
    /// Fields that serialise to `null` are omitted. Query values are the JSON value's text
    /// (strings unquoted); body fields are written in the endpoint's declared order.
    pub fn for_endpoint<P: Serialize + ?Sized>(
        endpoint: &'static Endpoint,
        params: &P,
    ) -> Result<Self, WireError> {
        let Value::Object(mut fields) =
            serde_json::to_value(params).map_err(|err| WireError::json("request params", err))?
        else {
            return Err(WireError::NotA {
                what: "request params",
                expected: "a JSON object",
            });
        };
        fields.retain(|_, value| !value.is_null());
        if let Some(field) = fields
            .keys()
            .find(|key| !endpoint.has_query_param(key) && !endpoint.has_body_field(key))
        {
            return Err(WireError::UndeclaredField {
                endpoint: endpoint.name,
                field: field.clone(),
            });
        }
        let query = endpoint
            .query
            .iter()
            .filter_map(|name| {
                fields
                    .get(*name)
                    .map(|value| ((*name).to_owned(), query_text(value)))
            })
            .collect();
        let body = match endpoint.method {
            Method::Get => None,
            Method::Post => Some(ordered_body(endpoint, &fields)),
        };
        Ok(Self {
            endpoint,
            query,
            body,
        })
    }

    /// The form-encoded query string, without the leading `?` (empty when there is no query).
    pub fn query_string(&self) -> String {
        encode_query(&self.query)
    }

    /// The path followed by `?query` when there is one, e.g. `/mcp?autoGenSession=false`.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.endpoint.path.to_owned()
        } else {
            format!("{}?{}", self.endpoint.path, self.query_string())
        }
    }

    /// Whether this request may be retried after an ambiguous failure (a timeout, 502, 504):
    /// the endpoint is idempotent and its `idempotent_unless` flag, if any, is not `true`.
    pub fn is_idempotent(&self) -> bool {
        self.endpoint.idempotent
            && !self.endpoint.idempotent_unless.is_some_and(|flag| {
                self.query
                    .iter()
                    .any(|(key, value)| key == flag && value == "true")
            })
    }
}

fn query_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn ordered_body(endpoint: &Endpoint, fields: &Map<String, Value>) -> Vec<u8> {
    let mut body = String::from("{");
    for name in endpoint.body {
        if let Some(value) = fields.get(*name) {
            if body.len() > 1 {
                body.push(',');
            }
            body.push_str(&Value::String((*name).to_owned()).to_string());
            body.push(':');
            body.push_str(&value.to_string());
        }
    }
    body.push('}');
    body.into_bytes()
}

/// Form-encodes query pairs: `application/x-www-form-urlencoded`, space as `+`.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Decodes a query string (with or without a leading `?`): `+` is a space, `%XX` is a byte.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Server side: decodes the query string and body of a request into `C`.
///
/// The body may be empty, `{}` or a JSON object; query values win over body fields of the
/// same name. Unknown parameters are ignored.
pub fn decode_request<C: ApiCall>(query: &str, body: &[u8]) -> Result<C, WireError> {
    decode_params(query, body)
}

/// [`decode_request`] for a params type not tied to one endpoint (e.g. an alias endpoint).
pub fn decode_params<P: DeserializeOwned>(query: &str, body: &[u8]) -> Result<P, WireError> {
    let mut fields = Map::new();
    for (key, value) in decode_query(query) {
        fields.entry(key).or_insert(Value::String(value));
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        match serde_json::from_slice::<Value>(body)
            .map_err(|err| WireError::json("request body", err))?
        {
            Value::Object(body_fields) => {
                for (key, value) in body_fields {
                    fields.entry(key).or_insert(value);
                }
            }
            Value::Null => {}
            _ => {
                return Err(WireError::NotA {
                    what: "request body",
                    expected: "a JSON object",
                });
            }
        }
    }
    serde_json::from_value(Value::Object(fields))
        .map_err(|err| WireError::json("request params", err))
}

/// Client side: decodes a response body into the envelope of `C`'s data type.
pub fn decode_response<C: ApiCall>(body: &[u8]) -> Result<Envelope<C::Data>, WireError> {
    Envelope::from_slice(body)
}
