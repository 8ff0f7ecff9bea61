//! One test per endpoint: method, path, query pairs and body bytes built from typed params,
//! and the server-side decode of that request giving the params back.

use std::fmt::Debug;

use agbcloud_wire::context::*;
use agbcloud_wire::session::*;
use agbcloud_wire::tools::CallToolParams;
use agbcloud_wire::tools::shell::ShellArgs;
use agbcloud_wire::{
    ApiCall, ApiRequest, Endpoint, Method, SuccessRule, decode_params, decode_request, endpoints,
};

#[track_caller]
fn check<C: ApiCall + PartialEq + Debug>(
    params: C,
    endpoint: &Endpoint,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: Option<&str>,
) -> ApiRequest {
    let request = params.to_request().expect("request builds");
    assert_eq!(request.endpoint, endpoint, "endpoint");
    assert_eq!(request.endpoint.method, method, "method");
    assert_eq!(request.endpoint.path, path, "path");
    let pairs: Vec<(&str, &str)> = request
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(pairs, query, "query pairs");
    assert_eq!(
        request
            .body
            .as_deref()
            .map(|b| std::str::from_utf8(b).unwrap()),
        body,
        "body"
    );
    let decoded: C = decode_request(
        &request.query_string(),
        request.body.as_deref().unwrap_or_default(),
    )
    .expect("server decodes what the client encodes");
    assert_eq!(decoded, params, "server-side decode");
    request
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn create_session() {
    let params = CreateSessionParams {
        sdk_stats: Some(SdkStats {
            source: "sdk".into(),
            sdk_language: "python".into(),
            sdk_version: "0.12.0".into(),
            is_release: true,
        }),
        persistence_data_list: vec![PersistenceData {
            context_id: "SdkCtx-7".into(),
            path: "/home/user/project".into(),
            policy: SyncPolicy::default(),
        }],
        labels: Some(labels(&[("team", "ml")])),
        timeout: Some(300),
        ..CreateSessionParams::new("agb-code-space-1")
    };
    let request = check(
        params,
        &endpoints::CREATE_SESSION,
        Method::Post,
        "/mcp/createSession",
        &[
            ("imageId", "agb-code-space-1"),
            (
                "sdkStats",
                r#"{"source":"sdk","sdk_language":"python","sdk_version":"0.12.0","is_release":true}"#,
            ),
        ],
        Some(concat!(
            r#"{"persistenceDataList":[{"contextId":"SdkCtx-7","path":"/home/user/project","policy":"#,
            r#""{\"uploadPolicy\":{\"autoUpload\":true,\"uploadStrategy\":\"UploadBeforeResourceRelease\",\"uploadMode\":\"File\"},"#,
            r#"\"downloadPolicy\":{\"autoDownload\":true,\"downloadStrategy\":\"DownloadAsync\"},"#,
            r#"\"deletePolicy\":{\"syncLocalFile\":true},"#,
            r#"\"extractPolicy\":{\"extract\":true,\"deleteSrcFile\":true,\"extractToCurrentFolder\":false},"#,
            r#"\"recyclePolicy\":{\"lifecycle\":\"Lifecycle_Forever\",\"paths\":[\"\"]},"#,
            r#"\"bwList\":{\"whiteLists\":[]}}"}],"labels":"{\"team\":\"ml\"}","timeout":300}"#
        )),
    );
    assert_eq!(
        request.path_and_query(),
        "/mcp/createSession?imageId=agb-code-space-1&sdkStats=%7B%22source%22%3A%22sdk%22%2C%22sdk_language%22%3A%22python%22%2C%22sdk_version%22%3A%220.12.0%22%2C%22is_release%22%3Atrue%7D"
    );
    assert!(!request.is_idempotent());
}

#[test]
fn create_session_minimal_sends_an_empty_object() {
    let request = check(
        CreateSessionParams::new("img"),
        &endpoints::CREATE_SESSION,
        Method::Post,
        "/mcp/createSession",
        &[("imageId", "img")],
        Some("{}"),
    );
    assert_eq!(request.endpoint.success, SuccessRule::SessionCreated);
}

#[test]
fn get_session() {
    let request = check(
        GetSessionParams::new("s-1"),
        &endpoints::GET_SESSION,
        Method::Post,
        "/mcp/getSession",
        &[],
        Some(r#"{"sessionId":"s-1"}"#),
    );
    assert!(request.is_idempotent());
    assert_eq!(request.path_and_query(), "/mcp/getSession");
}

#[test]
fn get_session_info() {
    let request = check(
        GetSessionInfoParams::new("s-1"),
        &endpoints::GET_SESSION_INFO,
        Method::Post,
        "/mcp/getSessionInfo",
        &[],
        Some(r#"{"sessionId":"s-1"}"#),
    );
    assert!(request.is_idempotent());
}

#[test]
fn release_session_async() {
    let request = check(
        ReleaseSessionAsyncParams::new("s-1"),
        &endpoints::RELEASE_SESSION_ASYNC,
        Method::Post,
        "/mcp/releaseSessionAsync",
        &[],
        Some(r#"{"sessionId":"s-1"}"#),
    );
    assert!(!request.is_idempotent());
}

#[test]
fn release_session() {
    let request = check(
        ReleaseSessionParams::new("s-1"),
        &endpoints::RELEASE_SESSION,
        Method::Post,
        "/mcp/releaseSession",
        &[],
        Some(r#"{"sessionId":"s-1"}"#),
    );
    assert!(!request.is_idempotent());
}

#[test]
fn list_session() {
    let params = ListSessionParams {
        max_results: 2,
        next_token: Some("page-2".into()),
        labels: labels(&[("team", "ml")]),
        is_all: None,
    };
    let request = check(
        params,
        &endpoints::LIST_SESSION,
        Method::Get,
        "/sdk/ListSession",
        &[
            ("maxResults", "2"),
            ("nextToken", "page-2"),
            ("labels", r#"{"team":"ml"}"#),
        ],
        None,
    );
    assert_eq!(
        request.path_and_query(),
        "/sdk/ListSession?maxResults=2&nextToken=page-2&labels=%7B%22team%22%3A%22ml%22%7D"
    );
    assert!(request.is_idempotent());
}

#[test]
fn list_session_always_sends_labels() {
    let params = ListSessionParams {
        max_results: 10,
        next_token: None,
        labels: Labels::new(),
        is_all: Some(true),
    };
    check(
        params,
        &endpoints::LIST_SESSION,
        Method::Get,
        "/sdk/ListSession",
        &[("maxResults", "10"), ("labels", "{}"), ("isAll", "true")],
        None,
    );
}

#[test]
fn refresh_session_idle_time() {
    let request = check(
        RefreshSessionIdleTimeParams::new("s-1"),
        &endpoints::REFRESH_SESSION_IDLE_TIME,
        Method::Post,
        "/mcp/refreshSessionIdleTime",
        &[("sessionId", "s-1")],
        Some("{}"),
    );
    assert!(request.is_idempotent());
}

#[test]
fn call_mcp_tool() {
    let params = CallToolParams::new(
        "s-8f2",
        &ShellArgs {
            timeout_ms: Some(1000),
            ..ShellArgs::new("echo hi")
        },
    )
    .unwrap();
    let request = check(
        params,
        &endpoints::CALL_MCP_TOOL,
        Method::Post,
        "/mcp",
        &[("autoGenSession", "false")],
        Some(
            r#"{"args":"{\"command\":\"echo hi\",\"timeout_ms\":1000}","sessionId":"s-8f2","name":"shell"}"#,
        ),
    );
    assert_eq!(request.path_and_query(), "/mcp?autoGenSession=false");
    assert!(!request.is_idempotent());
}

#[test]
fn call_mcp_tool_with_empty_args_sends_an_empty_object_string() {
    let params = CallToolParams::raw("s-1", "get_metrics", Default::default());
    check(
        params,
        &endpoints::CALL_MCP_TOOL,
        Method::Post,
        "/mcp",
        &[("autoGenSession", "false")],
        Some(r#"{"args":"{}","sessionId":"s-1","name":"get_metrics"}"#),
    );
}

#[test]
fn list_mcp_tools() {
    check(
        ListToolsParams {
            image_id: "agb-code-space-2".into(),
        },
        &endpoints::LIST_MCP_TOOLS,
        Method::Post,
        "/mcp/listTools",
        &[("imageId", "agb-code-space-2")],
        Some("{}"),
    );
}

#[test]
fn get_mcp_resource() {
    let request = check(
        GetMcpResourceParams::new("s-1"),
        &endpoints::GET_MCP_RESOURCE,
        Method::Post,
        "/mcp/getMcpResource",
        &[],
        Some(r#"{"sessionId":"s-1"}"#),
    );
    assert_eq!(
        request.endpoint.success,
        SuccessRule::Status200IgnoreEnvelope
    );
}

#[test]
fn set_label_uses_a_capital_l() {
    let params = SetLabelParams {
        session_id: "s-1".into(),
        labels: labels(&[("env", "dev"), ("a b", "c")]),
    };
    let request = check(
        params,
        &endpoints::SET_LABEL,
        Method::Post,
        "/sdk/SetLabel",
        &[
            ("sessionId", "s-1"),
            ("Labels", r#"{"a b":"c","env":"dev"}"#),
        ],
        Some("{}"),
    );
    assert_eq!(
        request.query_string(),
        "sessionId=s-1&Labels=%7B%22a+b%22%3A%22c%22%2C%22env%22%3A%22dev%22%7D"
    );
    assert!(request.is_idempotent());
}

#[test]
fn get_label() {
    let params = GetLabelParams {
        session_id: "s-1".into(),
        max_results: Some(5),
        next_token: None,
    };
    check(
        params,
        &endpoints::GET_LABEL,
        Method::Get,
        "/sdk/GetLabel",
        &[("sessionId", "s-1"), ("maxResults", "5")],
        None,
    );
}

#[test]
fn get_link() {
    let params = GetLinkParams {
        session_id: "s-1".into(),
        protocol_type: Some("https".into()),
        port: Some(30100),
    };
    check(
        params,
        &endpoints::GET_LINK,
        Method::Get,
        "/internet/getLink",
        &[
            ("sessionId", "s-1"),
            ("protocolType", "https"),
            ("port", "30100"),
        ],
        None,
    );
}

#[test]
fn mcp_get_link_alias_shares_the_params() {
    let params = GetLinkParams {
        session_id: "s-1".into(),
        protocol_type: None,
        port: None,
    };
    let request = ApiRequest::for_endpoint(&endpoints::MCP_GET_LINK, &params).unwrap();
    assert_eq!(request.path_and_query(), "/mcp/getLink?sessionId=s-1");
    assert_eq!(request.body, None);
    let decoded: GetLinkParams = decode_params(&request.query_string(), b"").unwrap();
    assert_eq!(decoded, params);
}

#[test]
fn list_contexts() {
    check(
        ListContextsParams {
            max_results: 10,
            next_token: None,
        },
        &endpoints::LIST_CONTEXTS,
        Method::Get,
        "/sdk/ListContexts",
        &[("maxResults", "10")],
        None,
    );
}

#[test]
fn get_context_by_name_with_create_is_not_idempotent() {
    let params = GetContextParams {
        id: None,
        name: Some("my ctx".into()),
        allow_create: true,
        login_region_id: None,
    };
    let request = check(
        params,
        &endpoints::GET_CONTEXT,
        Method::Get,
        "/sdk/GetContext",
        &[("name", "my ctx"), ("allowCreate", "true")],
        None,
    );
    assert_eq!(request.query_string(), "name=my+ctx&allowCreate=true");
    assert!(!request.is_idempotent());
}

#[test]
fn get_context_by_id_is_idempotent() {
    let params = GetContextParams {
        id: Some("SdkCtx-1".into()),
        name: None,
        allow_create: false,
        login_region_id: None,
    };
    let request = check(
        params,
        &endpoints::GET_CONTEXT,
        Method::Get,
        "/sdk/GetContext",
        &[("id", "SdkCtx-1"), ("allowCreate", "false")],
        None,
    );
    assert!(request.is_idempotent());
}

#[test]
fn modify_context() {
    check(
        ModifyContextParams {
            id: "SdkCtx-1".into(),
            name: "new".into(),
        },
        &endpoints::MODIFY_CONTEXT,
        Method::Post,
        "/sdk/ModifyContext",
        &[("id", "SdkCtx-1"), ("name", "new")],
        Some("{}"),
    );
}

#[test]
fn delete_context() {
    let request = check(
        DeleteContextParams {
            id: "SdkCtx-1".into(),
        },
        &endpoints::DELETE_CONTEXT,
        Method::Post,
        "/sdk/DeleteContext",
        &[("id", "SdkCtx-1")],
        Some("{}"),
    );
    assert!(!request.is_idempotent());
}

#[test]
fn clear_context() {
    check(
        ClearContextParams {
            id: "SdkCtx-1".into(),
        },
        &endpoints::CLEAR_CONTEXT,
        Method::Post,
        "/sdk/ClearContext",
        &[("id", "SdkCtx-1")],
        Some("{}"),
    );
}

#[test]
fn sync_context() {
    let params = SyncContextParams {
        session_id: "s-1".into(),
        context_id: Some("SdkCtx-ft".into()),
        path: Some("/home/user/dir".into()),
        mode: Some(SyncMode::Download),
    };
    let request = check(
        params,
        &endpoints::SYNC_CONTEXT,
        Method::Post,
        "/sdk/SyncContext",
        &[
            ("sessionId", "s-1"),
            ("contextId", "SdkCtx-ft"),
            ("path", "/home/user/dir"),
            ("mode", "download"),
        ],
        Some("{}"),
    );
    assert_eq!(
        request.query_string(),
        "sessionId=s-1&contextId=SdkCtx-ft&path=%2Fhome%2Fuser%2Fdir&mode=download"
    );
}

#[test]
fn get_context_info() {
    let params = GetContextInfoParams {
        session_id: "s-1".into(),
        context_id: Some("SdkCtx-ft".into()),
        path: Some("/d".into()),
        task_type: Some(SyncMode::Upload),
    };
    check(
        params,
        &endpoints::GET_CONTEXT_INFO,
        Method::Get,
        "/sdk/GetContextInfo",
        &[
            ("sessionId", "s-1"),
            ("contextId", "SdkCtx-ft"),
            ("path", "/d"),
            ("taskType", "upload"),
        ],
        None,
    );
}

#[test]
fn get_context_file_upload_url() {
    check(
        GetContextFileUploadUrlParams {
            context_id: "c".into(),
            file_path: "/home/user/a b.txt".into(),
        },
        &endpoints::GET_CONTEXT_FILE_UPLOAD_URL,
        Method::Post,
        "/sdk/GetContextFileUploadUrl",
        &[("contextId", "c"), ("filePath", "/home/user/a b.txt")],
        Some("{}"),
    );
}

#[test]
fn get_context_file_download_url() {
    check(
        GetContextFileDownloadUrlParams {
            context_id: "c".into(),
            file_path: "/x".into(),
        },
        &endpoints::GET_CONTEXT_FILE_DOWNLOAD_URL,
        Method::Post,
        "/sdk/GetContextFileDownloadUrl",
        &[("contextId", "c"), ("filePath", "/x")],
        Some("{}"),
    );
}

#[test]
fn delete_context_file() {
    check(
        DeleteContextFileParams {
            context_id: "c".into(),
            file_path: "/x".into(),
        },
        &endpoints::DELETE_CONTEXT_FILE,
        Method::Post,
        "/sdk/DeleteContextFile",
        &[("contextId", "c"), ("filePath", "/x")],
        Some("{}"),
    );
}

#[test]
fn describe_context_files() {
    let params = DescribeContextFilesParams {
        context_id: "c".into(),
        parent_folder_path: Some("/home".into()),
        page_number: 1,
        page_size: 50,
    };
    check(
        params,
        &endpoints::DESCRIBE_CONTEXT_FILES,
        Method::Post,
        "/sdk/DescribeContextFiles",
        &[
            ("contextId", "c"),
            ("parentFolderPath", "/home"),
            ("pageNumber", "1"),
            ("pageSize", "50"),
        ],
        Some("{}"),
    );
}

#[test]
fn get_and_load_internal_context() {
    let params = GetAndLoadInternalContextParams {
        session_id: "s-1".into(),
        context_types: vec![FILE_TRANSFER.into()],
    };
    let request = check(
        params,
        &endpoints::GET_AND_LOAD_INTERNAL_CONTEXT,
        Method::Post,
        "/sdk/GetAndLoadInternalContext",
        &[
            ("sessionId", "s-1"),
            ("contextTypes", r#"["file_transfer"]"#),
        ],
        Some("{}"),
    );
    assert_eq!(
        request.query_string(),
        "sessionId=s-1&contextTypes=%5B%22file_transfer%22%5D"
    );
}

#[test]
fn every_endpoint_is_findable_and_unique() {
    for endpoint in endpoints::ALL {
        assert_eq!(
            agbcloud_wire::endpoint::find(endpoint.method, endpoint.path),
            Some(*endpoint)
        );
    }
    assert_eq!(
        agbcloud_wire::endpoint::find(Method::Post, "//mcp"),
        Some(&endpoints::CALL_MCP_TOOL),
        "a doubled slash from a trailing-slash endpoint still routes"
    );
    assert_eq!(agbcloud_wire::endpoint::find(Method::Get, "/mcp"), None);
    assert_eq!(endpoints::ALL.len(), 26);
}

#[test]
fn python_style_requests_decode_on_the_server() {
    // Python form-encodes spaces as `+` and dumps JSON with spaces; Labels arrive like this.
    let params: SetLabelParams =
        decode_request("sessionId=s-1&Labels=%7B%22a%22%3A+%22b+c%22%7D", b"{}").unwrap();
    assert_eq!(params.labels, labels(&[("a", "b c")]));
    // TypeScript sends no body at all for /sdk/* POSTs.
    let params: DeleteContextParams = decode_request("id=SdkCtx-1", b"").unwrap();
    assert_eq!(params.id, "SdkCtx-1");
    // Python's spaced JSON body with the args string.
    let params: CallToolParams = decode_request(
        "autoGenSession=false",
        br#"{"args": "{\"command\": \"echo hi\", \"timeout_ms\": 1000}", "sessionId": "s-8f2", "name": "shell"}"#,
    )
    .unwrap();
    let args: ShellArgs = params.decode_args().unwrap();
    assert_eq!(args.command, "echo hi");
    assert_eq!(args.timeout_ms, Some(1000));
}
