//! Malformed JSON and wrong types give typed errors, never panics.

use agbcloud_wire::context::{ContextInfoData, GetContextParams};
use agbcloud_wire::session::{
    CreateSessionParams, ListSessionParams, SessionData, SetLabelParams, ToolsData,
};
use agbcloud_wire::stream::{ClientMessage, ServerFrame};
use agbcloud_wire::tools::code::parse_run_code_result;
use agbcloud_wire::tools::fs::{
    FileInfo, ReadFileArgs, decode_binary, parse_batch_read, parse_directory_listing,
    parse_file_changes,
};
use agbcloud_wire::tools::link::parse_link_response;
use agbcloud_wire::tools::metrics::Metrics;
use agbcloud_wire::tools::shell::parse_shell_result;
use agbcloud_wire::tools::{CallToolParams, ToolCallData};
use agbcloud_wire::{Envelope, WireError, decode_request};
use proptest::prelude::*;

#[test]
fn truncated_envelope_is_malformed() {
    let err = Envelope::<SessionData>::from_slice(br#"{"success": true, "data": {"#).unwrap_err();
    assert!(err.is_malformed(), "{err}");
    assert!(matches!(
        err,
        WireError::MalformedJson {
            what: "response envelope",
            ..
        }
    ));
    assert!(
        Envelope::<SessionData>::from_slice(b"")
            .unwrap_err()
            .is_malformed()
    );
    assert!(
        Envelope::<SessionData>::from_slice(b"<html>502 Bad Gateway</html>")
            .unwrap_err()
            .is_malformed()
    );
}

#[test]
fn wrong_types_are_named() {
    let err =
        Envelope::<SessionData>::from_slice(br#"{"success": true, "data": {"sessionId": 42}}"#)
            .unwrap_err();
    assert!(
        matches!(
            err,
            WireError::WrongType {
                what: "response data",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("invalid type"), "{err}");
    let err = Envelope::<SessionData>::from_slice(b"[1, 2]").unwrap_err();
    assert!(matches!(err, WireError::WrongType { .. }), "{err}");
    let err =
        Envelope::<ToolsData>::from_slice(br#"{"success": true, "data": "not json"}"#).unwrap_err();
    assert!(
        matches!(err, WireError::WrongType { .. }),
        "a bad JSON string inside data: {err}"
    );
    let err = Envelope::<ContextInfoData>::from_slice(
        br#"{"success": true, "data": {"contextStatus": "{}"}}"#,
    )
    .unwrap_err();
    assert!(matches!(err, WireError::WrongType { .. }), "{err}");
}

#[test]
fn bad_requests_are_rejected_by_the_server_decoder() {
    let err = decode_request::<CallToolParams>("", b"{not json").unwrap_err();
    assert!(err.is_malformed());
    let err = decode_request::<CallToolParams>("", b"[]").unwrap_err();
    assert!(
        matches!(
            err,
            WireError::NotA {
                what: "request body",
                ..
            }
        ),
        "{err}"
    );
    let err = decode_request::<CallToolParams>("", br#"{"sessionId": "s"}"#).unwrap_err();
    assert!(
        err.to_string().contains("name"),
        "missing field is named: {err}"
    );
    let err = decode_request::<CallToolParams>(
        "",
        br#"{"sessionId": "s", "name": "x", "args": "{oops"}"#,
    )
    .unwrap_err();
    assert!(matches!(err, WireError::WrongType { .. }), "{err}");
    let err = decode_request::<ListSessionParams>("maxResults=ten&labels=%7B%7D", b"").unwrap_err();
    assert!(err.to_string().contains("ten"), "{err}");
    let err = decode_request::<SetLabelParams>("sessionId=s&Labels=%5B1%5D", b"").unwrap_err();
    assert!(
        matches!(err, WireError::WrongType { .. }),
        "labels must be an object: {err}"
    );
    let err = decode_request::<GetContextParams>("allowCreate=maybe", b"").unwrap_err();
    assert!(err.to_string().contains("maybe"), "{err}");
    assert!(
        decode_request::<CreateSessionParams>("", b"  ").is_err(),
        "imageId is required"
    );
    let ok: CreateSessionParams = decode_request("imageId=x", b" \n").unwrap();
    assert_eq!(ok.image_id, "x", "a whitespace body counts as empty");
}

#[test]
fn bad_tool_args_are_typed_errors() {
    let params: CallToolParams =
        decode_request("", br#"{"sessionId": "s", "name": "read_file", "args": "{\"path\": \"rel/x\", \"offset\": 0}"}"#).unwrap();
    let err = params.decode_args::<ReadFileArgs>().unwrap_err();
    assert!(err.to_string().contains("relative"), "{err}");
    let params: CallToolParams = decode_request(
        "",
        br#"{"sessionId": "s", "name": "read_file", "args": "{\"path\": \"/x\", \"offset\": -1}"}"#,
    )
    .unwrap();
    assert!(params.decode_args::<ReadFileArgs>().is_err());
}

#[test]
fn bad_tool_texts() {
    assert!(parse_file_changes("not json").unwrap_err().is_malformed());
    assert!(matches!(
        parse_file_changes(r#"[{"eventType": "explode", "path": "/", "pathType": "file"}]"#),
        Err(WireError::WrongType { .. })
    ));
    assert!(Metrics::parse("{").unwrap_err().is_malformed());
    assert!(matches!(
        Metrics::parse(r#"{"cpu_count": "many"}"#),
        Err(WireError::WrongType { .. })
    ));
    assert!(matches!(
        FileInfo::parse("size: big\nisDirectory: false"),
        Err(WireError::NotA { .. })
    ));
    assert!(matches!(
        decode_binary("***"),
        Err(WireError::Base64 { .. })
    ));
    assert!(parse_link_response(b"nope").unwrap_err().is_malformed());
    assert!(ServerFrame::parse("{").unwrap_err().is_malformed());
    assert!(ClientMessage::parse(r#"{"type": 5}"#).is_err());
}

proptest! {
    // Arbitrary input never panics any decoder or parser.
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in any::<String>()) {
        let _ = Envelope::<SessionData>::from_slice(&bytes);
        let _ = Envelope::<ToolCallData>::from_slice(text.as_bytes());
        let _ = Envelope::<ContextInfoData>::from_slice(text.as_bytes());
        let _ = decode_request::<CreateSessionParams>(&text, &bytes);
        let _ = decode_request::<CallToolParams>(&text, text.as_bytes());
        let _ = parse_run_code_result(&text);
        let _ = parse_shell_result(&text, true);
        let _ = parse_shell_result(&text, false);
        let _ = parse_directory_listing(&text);
        let _ = parse_batch_read(&text);
        let _ = parse_file_changes(&text);
        let _ = FileInfo::parse(&text);
        let _ = Metrics::parse(&text);
        let _ = decode_binary(&text);
        let _ = parse_link_response(&bytes);
        let _ = ServerFrame::parse(&text);
        let _ = ClientMessage::parse(&text);
    }

    // JSON-shaped input reaches deeper into the decoders.
    #[test]
    fn json_shaped_input_never_panics(
        key in prop_oneof!["result", "content", "logs", "results", "isError", "executionError", "data", "stdout", "text"],
        value in prop_oneof![Just("null".to_owned()), Just("[]".to_owned()), Just("{}".to_owned()), Just("1".to_owned()),
                             Just("\"x\"".to_owned()), Just("[{\"text\": 1}]".to_owned()), Just("[\"{\\\"a\\\":1}\"]".to_owned())],
    ) {
        let text = format!("{{\"{key}\": {value}}}");
        let _ = parse_run_code_result(&text);
        let _ = parse_shell_result(&text, false);
        let _ = parse_link_response(text.as_bytes());
        let _ = Envelope::<ToolCallData>::from_slice(text.as_bytes());
        let nested = format!("{{\"content\": [{{\"text\": {}}}]}}", serde_json::to_string(&text).unwrap());
        let _ = parse_run_code_result(&nested);
    }
}

#[test]
fn params_must_match_the_endpoint() {
    use agbcloud_wire::{ApiRequest, endpoints};

    let err = ApiRequest::for_endpoint(
        &endpoints::GET_SESSION,
        &serde_json::json!({"sessionId": "s", "bogus": 1}),
    )
    .unwrap_err();
    assert!(
        matches!(&err, WireError::UndeclaredField { endpoint: "GetSession", field } if field == "bogus"),
        "{err}"
    );
    let err = ApiRequest::for_endpoint(&endpoints::GET_SESSION, "just a string").unwrap_err();
    assert!(
        matches!(
            err,
            WireError::NotA {
                what: "request params",
                ..
            }
        ),
        "{err}"
    );
    // Null fields are simply omitted.
    let request = ApiRequest::for_endpoint(
        &endpoints::GET_LINK,
        &serde_json::json!({"sessionId": "s", "port": null}),
    )
    .unwrap();
    assert_eq!(request.path_and_query(), "/internet/getLink?sessionId=s");
}
