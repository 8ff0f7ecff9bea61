//! Golden tests: every sample exchange of agb-protocol.md §13 (and the other samples of the
//! protocol), and every `run_code` result format of §4.2, parsed into the expected values.

use agbcloud_wire::context::{
    ContextInfoData, FILE_TRANSFER, InternalContext, SyncMode, SyncPolicy, sync_status,
};
use agbcloud_wire::session::*;
use agbcloud_wire::stream::{
    ClientFrame, ClientMessage, EndStatus, ServerFrame, StreamData, StreamEventKind,
    StreamRunCodeParams,
};
use agbcloud_wire::tools::code::{
    ExecutionError, ExecutionResult, Language, parse_run_code_result,
};
use agbcloud_wire::tools::fs::{
    ChangeKind, DirEntry, FileInfo, PathKind, ReadFileArgs, parse_batch_read,
    parse_directory_listing, parse_file_changes, read_chunks,
};
use agbcloud_wire::tools::link::parse_link_response;
use agbcloud_wire::tools::metrics::Metrics;
use agbcloud_wire::tools::shell::{ShellArgs, parse_shell_result};
use agbcloud_wire::tools::{CallToolParams, ToolArgs, ToolCallData};
use agbcloud_wire::{
    Envelope, ErrorCode, Ignored, SandboxPath, SuccessRule, decode_request, endpoints,
};
use serde_json::json;

// ---- §13: create with one mounted context -------------------------------------------------

const CREATE_QUERY: &str = "imageId=agb-code-space-1&sdkStats=%7B%22source%22%3A%22sdk%22%2C%22sdk_language%22%3A%22python%22%2C%22sdk_version%22%3A%220.12.0%22%2C%22is_release%22%3Atrue%7D";
const CREATE_BODY: &str = r#"{"persistenceDataList": [{"contextId": "SdkCtx-7", "path": "/home/user/project", "policy": "{\"uploadPolicy\": {\"autoUpload\": true, \"uploadStrategy\": \"UploadBeforeResourceRelease\", \"uploadMode\": \"File\"}, \"downloadPolicy\": {\"autoDownload\": true, \"downloadStrategy\": \"DownloadAsync\"}, \"deletePolicy\": {\"syncLocalFile\": true}, \"extractPolicy\": {\"extract\": true, \"deleteSrcFile\": true, \"extractToCurrentFolder\": false}, \"recyclePolicy\": {\"lifecycle\": \"Lifecycle_Forever\", \"paths\": [\"\"]}, \"bwList\": {\"whiteLists\": []}}"}], "labels": "{\"team\": \"ml\"}", "timeout": 300}"#;
const CREATE_RESPONSE: &str = r#"{"success": true, "code": "ok", "message": "", "requestId": "9A1E-01", "httpStatusCode": 200,
 "data": {"sessionId": "session-01hx", "success": true, "appInstanceId": "ai-01hx", "resourceId": "res-01hx",
          "resourceUrl": "https://example.invalid/view?resourceId=res-01hx&auth=abc",
          "wsUrl": "wss://example.invalid/ws/session-01hx", "token": "tkn-01hx",
          "toolList": "[{\"name\":\"run_code\",\"server\":\"wuying_codespace\"},{\"name\":\"shell\",\"server\":\"wuying_shell\"}]"}}"#;

#[test]
fn create_session_request_decodes_on_the_server() {
    let params: CreateSessionParams = decode_request(CREATE_QUERY, CREATE_BODY.as_bytes()).unwrap();
    assert_eq!(params.image_id, "agb-code-space-1");
    let stats = params.sdk_stats.unwrap();
    assert_eq!(
        (
            stats.sdk_language.as_str(),
            stats.sdk_version.as_str(),
            stats.is_release
        ),
        ("python", "0.12.0", true)
    );
    assert_eq!(
        params.labels.unwrap().get("team").map(String::as_str),
        Some("ml")
    );
    assert_eq!(params.timeout, Some(300));
    let mount = &params.persistence_data_list[0];
    assert_eq!(
        (mount.context_id.as_str(), mount.path.as_str()),
        ("SdkCtx-7", "/home/user/project")
    );
    assert_eq!(
        mount.policy,
        SyncPolicy::default(),
        "the sample policy is the Python default"
    );
}

#[test]
fn create_session_response_parses() {
    let envelope: Envelope<SessionData> = Envelope::from_slice(CREATE_RESPONSE.as_bytes()).unwrap();
    assert!(envelope.is_success(200, endpoints::CREATE_SESSION.success));
    assert_eq!(envelope.request_id, "9A1E-01");
    assert_eq!(envelope.code, ErrorCode::Ok);
    let data = envelope.data.unwrap();
    assert_eq!(data.created_session_id(""), Ok("session-01hx"));
    assert_eq!(
        data.ws_url.as_deref(),
        Some("wss://example.invalid/ws/session-01hx")
    );
    assert_eq!(data.token.as_deref(), Some("tkn-01hx"));
    assert!(data.resource_url.unwrap().contains("resourceId="));
    assert_eq!(data.tool_list.as_ref().map(Vec::len), Some(2));
    let data: SessionData = serde_json::from_str(
        r#"{"sessionId": "s", "ToolList": [{"Name": "shell", "serverName": "wuying_shell"}], "LinkUrl": "http://l/"}"#,
    )
    .unwrap();
    assert_eq!(
        data.server_of("shell"),
        Some("wuying_shell"),
        "getSession's capitalised keys and array form"
    );
    assert_eq!(data.link_url.as_deref(), Some("http://l/"));
}

#[test]
fn failed_create_is_judged_by_the_data() {
    let envelope: Envelope<SessionData> = Envelope::from_slice(
        br#"{"success": true, "requestId": "r", "data": {"success": false, "errMsg": "quota exceeded"}}"#,
    )
    .unwrap();
    assert!(!envelope.is_success(200, SuccessRule::SessionCreated));
    assert_eq!(
        envelope.data.unwrap().created_session_id(""),
        Err("quota exceeded")
    );
    let envelope: Envelope<SessionData> =
        Envelope::from_slice(br#"{"success": false, "message": "bad image", "requestId": "r"}"#)
            .unwrap();
    assert!(!envelope.is_success(200, SuccessRule::SessionCreated));
    assert_eq!(
        SessionData::default().created_session_id(&envelope.message),
        Err("bad image")
    );
    assert_eq!(
        SessionData::default().created_session_id(""),
        Err("Unknown error")
    );
}

// ---- §13: shell call with non-zero exit ----------------------------------------------------

#[test]
fn shell_failure_keeps_the_json_text() {
    let params: CallToolParams = decode_request(
        "autoGenSession=false",
        br#"{"args": "{\"command\": \"ls /nope\", \"timeout_ms\": 1000}", "sessionId": "session-01hx", "name": "shell"}"#,
    )
    .unwrap();
    assert_eq!(
        (params.name.as_str(), params.session_id.as_str()),
        ("shell", "session-01hx")
    );
    let args: ShellArgs = params.decode_args().unwrap();
    assert_eq!(
        (args.command.as_str(), args.timeout_ms),
        ("ls /nope", Some(1000))
    );

    let envelope: Envelope<ToolCallData> = Envelope::from_slice(
        br#"{"success": true, "code": "ok", "message": "", "requestId": "9A1E-02", "httpStatusCode": 200,
 "data": {"isError": true, "content": [{"type": "text", "text": "{\"stdout\": \"\", \"stderr\": \"ls: cannot access '/nope': No such file or directory\\n\", \"exit_code\": 2, \"errorCode\": 2, \"traceId\": \"\"}"}]}}"#,
    )
    .unwrap();
    let output = envelope.tool_output(200);
    assert!(!output.success);
    assert!(
        output.error_message.starts_with(r#"{"stdout": """#),
        "the tool text reaches the parser"
    );
    let outcome = parse_shell_result(&output.error_message, true);
    assert!(!outcome.success);
    assert_eq!(outcome.exit_code, Some(2));
    assert_eq!(
        outcome.stderr,
        "ls: cannot access '/nope': No such file or directory\n"
    );
    assert_eq!(outcome.error_message, outcome.stderr);
    assert_eq!(outcome.output, outcome.stderr);
}

#[test]
fn shell_success_and_plain_text() {
    let outcome = parse_shell_result(
        r#"{"stdout": "hi\n", "stderr": "", "exit_code": 0, "traceId": "t"}"#,
        false,
    );
    assert!(outcome.success);
    assert_eq!(
        (
            outcome.exit_code,
            outcome.output.as_str(),
            outcome.trace_id.as_str()
        ),
        (Some(0), "hi\n", "t")
    );
    let outcome = parse_shell_result(r#"{"stdout": "", "stderr": "x", "exit_code": 3}"#, false);
    assert!(
        !outcome.success,
        "a non-zero exit code on the success path still fails"
    );
    let outcome = parse_shell_result("not json", false);
    assert!(outcome.success);
    assert_eq!(
        (outcome.exit_code, outcome.output.as_str()),
        (None, "not json")
    );
    let outcome = parse_shell_result("Session not found", true);
    assert_eq!(
        (
            outcome.success,
            outcome.exit_code,
            outcome.error_message.as_str()
        ),
        (false, None, "Session not found")
    );
    let outcome = parse_shell_result(r#"{"stdout": "o", "stderr": "", "errorCode": 124}"#, true);
    assert_eq!(
        outcome.exit_code,
        Some(124),
        "errorCode is the fallback exit code on the error path"
    );
    assert_eq!(
        outcome.error_message,
        r#"{"stdout": "o", "stderr": "", "errorCode": 124}"#
    );
}

// ---- §13: run code, main result + display output -------------------------------------------

#[test]
fn run_code_sample_exchange() {
    let envelope: Envelope<ToolCallData> = Envelope::from_slice(
        br#"{"success": true, "requestId": "9A1E-03",
 "data": {"isError": false, "content": [{"type": "text", "text": "{\"result\": [{\"text/html\": \"<b>hi</b>\", \"text/plain\": \"<IPython.core.display.HTML object>\", \"isMainResult\": false}, {\"text/plain\": \"42\", \"isMainResult\": true}], \"stdout\": [\"working\\n\"], \"stderr\": [], \"execution_count\": 5, \"execution_time\": 0.018}"}]}}"#,
    )
    .unwrap();
    let output = envelope.tool_output(200);
    assert!(output.success);
    let run = parse_run_code_result(&output.text.unwrap());
    assert!(run.success);
    assert_eq!(run.execution_count, Some(5));
    assert_eq!(run.execution_time, 0.018);
    assert_eq!(run.logs.stdout, ["working\n"]);
    assert!(run.logs.stderr.is_empty());
    assert_eq!(run.results.len(), 2);
    assert_eq!(run.results[0].html.as_deref(), Some("<b>hi</b>"));
    assert!(!run.results[0].is_main_result);
    assert_eq!(run.results[1], ExecutionResult::text("42", true));
    assert_eq!(run.main_text(), "42");
}

// ---- §4.2: every accepted result format ----------------------------------------------------

#[test]
fn run_code_plain_text_and_non_objects() {
    let run = parse_run_code_result("hello");
    assert!(run.success);
    assert_eq!(run.results, [ExecutionResult::text("hello", true)]);
    assert_eq!(run.logs.stdout, ["hello"]);
    let run = parse_run_code_result("42");
    assert_eq!(run.main_text(), "42");
    let run = parse_run_code_result("[1, 2]");
    assert_eq!(run.main_text(), "[1, 2]");
}

#[test]
fn run_code_empty_text_fails() {
    let run = parse_run_code_result("");
    assert!(!run.success);
    assert_eq!(run.error_message, "No data returned");
}

#[test]
fn run_code_legacy_wrapping_is_unwrapped() {
    let inner = json!({"result": [{"text/plain": "3", "isMainResult": true}], "stdout": ["a"], "execution_count": 1});
    let text = json!({"content": [{"type": "text", "text": inner.to_string()}]}).to_string();
    let run = parse_run_code_result(&text);
    assert!(run.success);
    assert_eq!(run.main_text(), "3");
    assert_eq!(run.logs.stdout, ["a"]);
    assert_eq!(run.execution_count, Some(1));

    let inner = json!({"result": [], "executionError": "NameError: name 'x' is not defined"});
    let text = json!({"content": [{"type": "text", "text": inner.to_string()}]}).to_string();
    let run = parse_run_code_result(&text);
    assert!(!run.success);
    assert_eq!(run.error_message, "NameError: name 'x' is not defined");
}

#[test]
fn run_code_is_error_joins_content_texts() {
    let text = json!({"isError": true, "content": [
        {"type": "text", "text": "boom"}, {"type": "image"}, {"type": "text", "text": "again"}
    ]});
    let run = parse_run_code_result(&text.to_string());
    assert!(!run.success);
    assert_eq!(
        run.error_message,
        "Error in response: boom; Unknown error; again"
    );
}

#[test]
fn run_code_new_format_every_mime_type_and_item_encoding() {
    let png_item = json!({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}).to_string();
    let double_encoded =
        serde_json::to_string(&json!({"text/markdown": "**b**"}).to_string()).unwrap();
    let text = json!({
        "result": [
            {"text/plain": "t", "text/html": "<i>h</i>", "text/markdown": "# m", "image/jpeg": "/9j/",
             "image/svg+xml": "<svg/>", "application/json": {"a": [1]}, "text/latex": "$x$",
             "application/vnd.vegalite.v4+json": {"mark": "bar"}, "isMainResult": false},
            png_item,
            double_encoded,
            "plain words",
            {"text": "short", "html": "<p>", "png": "AAAA", "chart": {"v": 5}, "is_main_result": true},
            {"application/vnd.vegalite.v5+json": {"mark": "line"}}
        ],
        "stdout": ["x = 1\n", "y\n"],
        "stderr": ["warn\n"],
        "execution_count": null,
        "execution_time": 0.042,
        "executionError": ""
    });
    let run = parse_run_code_result(&text.to_string());
    assert!(run.success, "{}", run.error_message);
    assert_eq!(run.execution_count, None);
    assert_eq!(run.execution_time, 0.042);
    assert_eq!(run.logs.stdout, ["x = 1\n", "y\n"]);
    assert_eq!(run.logs.stderr, ["warn\n"]);
    let first = &run.results[0];
    assert_eq!(first.text.as_deref(), Some("t"));
    assert_eq!(first.html.as_deref(), Some("<i>h</i>"));
    assert_eq!(first.markdown.as_deref(), Some("# m"));
    assert_eq!(first.jpeg.as_deref(), Some("/9j/"));
    assert_eq!(first.svg.as_deref(), Some("<svg/>"));
    assert_eq!(first.json, Some(json!({"a": [1]})));
    assert_eq!(first.latex.as_deref(), Some("$x$"));
    assert_eq!(
        first.chart.as_ref().and_then(|c| c.get("mark")),
        Some(&json!("bar"))
    );
    assert_eq!(
        run.results[1].png.as_deref(),
        Some("iVBORw0KGgo="),
        "a JSON string of a MIME object"
    );
    assert_eq!(
        run.results[2].markdown.as_deref(),
        Some("**b**"),
        "a doubly encoded MIME object"
    );
    assert_eq!(
        run.results[3],
        ExecutionResult::text("plain words", false),
        "a plain string is text"
    );
    let short = &run.results[4];
    assert_eq!(
        (
            short.text.as_deref(),
            short.html.as_deref(),
            short.png.as_deref()
        ),
        (Some("short"), Some("<p>"), Some("AAAA"))
    );
    assert_eq!(
        short.chart.as_ref().and_then(|c| c.get("v")),
        Some(&json!(5))
    );
    assert!(short.is_main_result);
    assert_eq!(
        run.results[5].chart.as_ref().and_then(|c| c.get("mark")),
        Some(&json!("line"))
    );
    assert_eq!(run.main_text(), "short");
}

#[test]
fn run_code_new_format_execution_error() {
    let text = json!({
        "result": [],
        "stdout": [],
        "stderr": ["Traceback (most recent call last):\n", "NameError: name 'x' is not defined\n"],
        "execution_count": 2,
        "execution_time": 0.001,
        "executionError": "NameError: name 'x' is not defined"
    });
    let run = parse_run_code_result(&text.to_string());
    assert!(!run.success);
    assert_eq!(run.error_message, "NameError: name 'x' is not defined");
    assert_eq!(
        run.error,
        Some(ExecutionError {
            name: "ExecutionError".into(),
            value: "NameError: name 'x' is not defined".into(),
            traceback: String::new()
        })
    );
    assert_eq!(run.logs.stderr.len(), 2);
}

#[test]
fn run_code_rich_format() {
    let text = json!({
        "logs": {"stdout": ["hi\n"], "stderr": []},
        "results": [{"text": "2", "is_main_result": true}, {"html": "<b>x</b>"}],
        "execution_count": 7,
        "execution_time": 1.5,
        "isError": false
    });
    let run = parse_run_code_result(&text.to_string());
    assert!(run.success);
    assert_eq!((run.execution_count, run.execution_time), (Some(7), 1.5));
    assert_eq!(run.logs.stdout, ["hi\n"]);
    assert_eq!(run.main_text(), "2");
    assert_eq!(run.results[1].html.as_deref(), Some("<b>x</b>"));

    let text = json!({
        "logs": {"stdout": [], "stderr": ["tb"]},
        "results": [],
        "error": {"name": "ZeroDivisionError", "value": "division by zero", "traceback": "tb"},
    });
    let run = parse_run_code_result(&text.to_string());
    assert!(
        run.success,
        "without isError the rich format is a success, even with an error object"
    );
    assert_eq!(
        run.error.as_ref().map(|e| e.name.as_str()),
        Some("ZeroDivisionError")
    );
    assert_eq!(
        run.error_message, "division by zero",
        "error.value, as Python reports it"
    );
    assert_eq!(run.logs.stderr, ["tb"]);
    let run =
        parse_run_code_result(&json!({"results": [], "error": {"traceback": "t"}}).to_string());
    assert_eq!(
        run.error_message, "UnknownError",
        "error.name defaults to UnknownError"
    );
}

#[test]
fn run_code_legacy_content_and_other_objects() {
    let run = parse_run_code_result(
        &json!({"content": [{"type": "text", "text": "legacy out"}]}).to_string(),
    );
    assert!(run.success);
    assert_eq!(run.main_text(), "legacy out");
    assert_eq!(run.logs.stdout, ["legacy out"]);
    let run = parse_run_code_result(r#"{"content": []}"#);
    assert!(!run.success);
    assert_eq!(run.error_message, "No content found in response");
    let run = parse_run_code_result(r#"{"something": "else"}"#);
    assert!(run.success);
    assert_eq!(run.main_text(), r#"{"something":"else"}"#);
}

#[test]
fn run_code_main_text_falls_back_to_stdout() {
    let run = parse_run_code_result(&json!({"result": [], "stdout": ["a", "b"]}).to_string());
    assert_eq!(run.main_text(), "ab");
    let run = parse_run_code_result(&json!({"result": [{"text/html": "<p>"}]}).to_string());
    assert_eq!(run.main_text(), "", "no text anywhere");
}

#[test]
fn language_names_and_aliases() {
    for (raw, language) in [
        ("python", Language::Python),
        (" Python3 ", Language::Python),
        ("py", Language::Python),
        ("JS", Language::JavaScript),
        ("node", Language::JavaScript),
        ("nodejs", Language::JavaScript),
        ("Java", Language::Java),
        ("R", Language::R),
    ] {
        assert_eq!(Language::parse(raw), Ok(language), "{raw}");
    }
    assert_eq!(
        Language::parse("ruby").unwrap_err().to_string(),
        "Unsupported language: ruby. Supported languages are java, javascript, python, r"
    );
}

// ---- §13: file reads, listings, batch reads, file changes ----------------------------------

#[test]
fn reading_a_70000_byte_file_takes_two_ranges() {
    let chunks: Vec<(u64, u64)> = read_chunks(70_000).collect();
    assert_eq!(chunks, [(0, 51_200), (51_200, 18_800)]);
    assert_eq!(read_chunks(0).count(), 0);
    let path = SandboxPath::parse("/home/user/big.txt").unwrap();
    let args = ReadFileArgs {
        path,
        offset: 51_200,
        length: Some(18_800),
        format: None,
    };
    assert_eq!(ReadFileArgs::NAME, "read_file");
    assert_eq!(
        serde_json::to_string(&args).unwrap(),
        r#"{"path":"/home/user/big.txt","offset":51200,"length":18800}"#
    );
}

#[test]
fn directory_listing_text() {
    let entries = parse_directory_listing("[DIR] src\n[FILE] README.md\n[FILE] setup.py");
    assert_eq!(
        entries,
        [
            DirEntry {
                name: "src".into(),
                is_directory: true
            },
            DirEntry {
                name: "README.md".into(),
                is_directory: false
            },
            DirEntry {
                name: "setup.py".into(),
                is_directory: false
            },
        ]
    );
}

#[test]
fn batch_read_text() {
    let files = parse_batch_read("/home/user/a.txt:\nalpha\n\n---\n/home/user/b.txt:\nbeta\n");
    assert_eq!(
        files,
        [
            ("/home/user/a.txt".to_owned(), "alpha".to_owned()),
            ("/home/user/b.txt".to_owned(), "beta".to_owned())
        ]
    );
}

#[test]
fn file_change_text() {
    let events = parse_file_changes(
        r#"[{"eventType":"modify","path":"/home/user/w/a.txt","pathType":"file"}]"#,
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].event_type,
            events[0].path.as_str(),
            events[0].path_type
        ),
        (ChangeKind::Modify, "/home/user/w/a.txt", PathKind::File)
    );
    let events =
        parse_file_changes(r#"[{"EventType":"create","Path":"/d","PathType":"directory"}]"#)
            .unwrap();
    assert_eq!(
        (events[0].event_type, events[0].path_type),
        (ChangeKind::Create, PathKind::Directory),
        "TS capitalised keys"
    );
}

#[test]
fn file_info_text() {
    let info = FileInfo::parse(
        "name: notes.txt\npath: /home/user/notes.txt\nsize: 1204\nisDirectory: false\nisFile: true\nmodTime: 1767225600\nmode: -rw-r--r--\npermissions: rw-r--r--",
    )
    .unwrap();
    assert_eq!(
        (info.name.as_str(), info.path.as_str(), info.size),
        ("notes.txt", "/home/user/notes.txt", 1204)
    );
    assert!(!info.is_directory && info.is_file);
    assert_eq!(info.mod_time.as_deref(), Some("1767225600"));
    assert_eq!(info.mode.as_deref(), Some("-rw-r--r--"));
    assert_eq!(info.permissions.as_deref(), Some("rw-r--r--"));
    let info = FileInfo::parse("size: 0\nisDirectory: true\nnote: a: b").unwrap();
    assert_eq!(
        info.extra.get("note").map(String::as_str),
        Some("a: b"),
        "split on the first colon only"
    );
    assert!(
        FileInfo::parse("name: x").is_err(),
        "size and isDirectory are required by read()"
    );
}

// ---- §13: list sessions, release and poll ---------------------------------------------------

#[test]
fn list_sessions_page_one_of_two() {
    let params: ListSessionParams =
        decode_request("maxResults=2&labels=%7B%22team%22%3A+%22ml%22%7D", b"").unwrap();
    assert_eq!(params.max_results, 2);
    assert_eq!(params.labels.get("team").map(String::as_str), Some("ml"));
    assert_eq!(params.next_token, None);

    let envelope: Envelope<Vec<SessionSummary>> = Envelope::from_slice(
        br#"{"success": true, "requestId": "9A1E-04", "data": [{"sessionId": "session-01hx", "sessionStatus": "RUNNING"}, {"sessionId": "session-02ab", "sessionStatus": "RUNNING"}], "nextToken": "page-2", "maxResults": 2, "count": 3}"#,
    )
    .unwrap();
    assert!(envelope.is_success(200, endpoints::LIST_SESSION.success));
    assert!(
        !envelope.is_success(201, endpoints::LIST_SESSION.success),
        "ListSession demands exactly 200"
    );
    assert_eq!(
        (
            envelope.next_token.as_deref(),
            envelope.max_results,
            envelope.count
        ),
        (Some("page-2"), Some(2), Some(3))
    );
    let ids: Vec<&str> = envelope
        .data
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.session_id.as_str())
        .collect();
    assert_eq!(ids, ["session-01hx", "session-02ab"]);
}

#[test]
fn release_and_poll_until_gone() {
    let params: ReleaseSessionAsyncParams =
        decode_request("", br#"{"sessionId": "session-01hx"}"#).unwrap();
    assert_eq!(params.session_id, "session-01hx");
    let released: Envelope<Ignored> = Envelope::from_slice(
        br#"{"success": true, "code": "ok", "message": "", "requestId": "9A1E-05", "httpStatusCode": 200}"#,
    )
    .unwrap();
    assert!(released.is_success(200, endpoints::RELEASE_SESSION_ASYNC.success));
    let gone: Envelope<SessionStatusData> = Envelope::from_slice(
        br#"{"success": false, "code": "InvalidMcpSession.NotFound", "message": "Session not found", "requestId": "9A1E-06", "httpStatusCode": 400}"#,
    )
    .unwrap();
    assert!(!gone.is_success(400, endpoints::GET_SESSION_INFO.success));
    assert_eq!(gone.code, ErrorCode::SessionNotFound);
    assert_eq!(gone.http_status_code, Some(400));
    assert!(gone.is_session_gone());
    assert_eq!(gone.request_id_or(Some("hdr")), Some("9A1E-06"));
    let running: Envelope<SessionStatusData> =
        Envelope::from_slice(br#"{"success": true, "data": {"Status": "RUNNING"}}"#).unwrap();
    assert!(!running.is_session_gone());
    assert!(!running.data.as_ref().unwrap().is_finished());
    assert_eq!(
        running.request_id_or(Some("x-req-1")),
        Some("x-req-1"),
        "header fallback"
    );
    assert_eq!(running.request_id_or(None), None);
}

// ---- §13 / §7: WebSocket frames --------------------------------------------------------------

#[test]
fn websocket_stream_frames() {
    let frames = [
        r#"{"invocationId": "3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "event", "seq": 1, "eventType": "stdout", "chunk": "hello\n"}}"#,
        r#"{"invocationId": "3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "event", "seq": 2, "eventType": "result", "result": {"mime": {"text/plain": "42"}, "isMainResult": true}}}"#,
        r#"{"invocationId": "3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "end", "seq": 3, "status": "finished", "executionCount": 6, "executionTime": 1.02}}"#,
    ];
    let frames: Vec<ServerFrame> = frames
        .iter()
        .map(|f| ServerFrame::parse(f).unwrap())
        .collect();
    assert!(
        frames
            .iter()
            .all(|f| f.invocation_id == "3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60" && f.target == "SDK")
    );
    let StreamData::Event(event) = &frames[0].data else {
        panic!("event expected")
    };
    assert_eq!(event.seq, Some(1));
    assert_eq!(
        event.kind,
        StreamEventKind::Stdout {
            chunk: "hello\n".into()
        }
    );
    let StreamData::Event(event) = &frames[1].data else {
        panic!("event expected")
    };
    let StreamEventKind::Result { result } = &event.kind else {
        panic!("result expected")
    };
    assert!(result.is_main_result);
    assert_eq!(result.mime.get("text/plain"), Some(&json!("42")));
    let StreamData::End(end) = &frames[2].data else {
        panic!("end expected")
    };
    assert_eq!(
        (end.status, end.execution_count, end.execution_time),
        (EndStatus::Finished, Some(6), 1.02)
    );
    assert_eq!(end.execution_error, None);
}

#[test]
fn websocket_data_as_string_request_id_alias_and_errors() {
    let frame = ServerFrame::parse(
        r#"{"requestId": "abc", "source": "s", "target": "SDK", "data": "{\"phase\":\"event\",\"eventType\":\"stderr\",\"chunk\":\"e\"}"}"#,
    )
    .unwrap();
    assert_eq!(frame.invocation_id, "abc");
    assert!(
        matches!(frame.data, StreamData::Event(ref e) if e.kind == StreamEventKind::Stderr { chunk: "e".into() })
    );
    let frame = ServerFrame::parse(
        r#"{"invocationId": "a", "data": {"phase": "error", "error": "kernel died"}}"#,
    )
    .unwrap();
    assert_eq!(frame.data.remote_error(), Some("kernel died"));
    let frame = ServerFrame::parse(
        r#"{"invocationId": "a", "data": {"phase": "event", "eventType": "error", "error": {"code": "NameError", "message": "x", "traceId": "t"}}}"#,
    )
    .unwrap();
    let StreamData::Event(event) = frame.data else {
        panic!("event expected")
    };
    let StreamEventKind::Error { error } = event.kind else {
        panic!("error event expected")
    };
    assert_eq!(
        (
            error.code.as_str(),
            error.message.as_str(),
            error.trace_id.as_str()
        ),
        ("NameError", "x", "t")
    );
    assert!(
        ServerFrame::parse(r#"{"invocationId": "a", "data": {"phase": "bogus"}}"#).is_err(),
        "unknown phase"
    );
    assert!(
        ServerFrame::parse(r#"{"invocationId": "a", "data": {"seq": 1}}"#).is_err(),
        "missing phase"
    );
}

#[test]
fn websocket_client_frames() {
    let observed = r#"{"invocationId":"3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60","source":"SDK","target":"wuying_codespace","data":{"method":"run_code","mode":"stream","params":{"language":"python","timeoutS":60,"code":"print('hi')"}}}"#;
    let params = StreamRunCodeParams {
        language: "python".into(),
        timeout_s: 60,
        code: "print('hi')".into(),
    };
    let built = ClientFrame::run_code(
        "3f9c0d6e2b6a4e0f9a1c5b7d8e2f4a60",
        "wuying_codespace",
        params.clone(),
    );
    assert_eq!(
        built.to_json(),
        observed,
        "byte-identical to the Python client"
    );
    let ClientMessage::Invoke(parsed) = ClientMessage::parse(observed).unwrap() else {
        panic!("invocation expected")
    };
    assert_eq!(
        (
            parsed.target.as_str(),
            parsed.data.method.as_str(),
            parsed.data.mode.as_str()
        ),
        ("wuying_codespace", "run_code", "stream")
    );
    assert_eq!(parsed.params_as::<StreamRunCodeParams>().unwrap(), params);
    assert!(matches!(
        ClientMessage::parse(r#"{"type":"ping"}"#).unwrap(),
        ClientMessage::Ping { .. }
    ));
}

// ---- §3.3, §3.5, §4.4, §5.1, §6.4 samples -------------------------------------------------------

#[test]
fn link_route_response() {
    let body = br#"{"data": "{\"result\":{\"isError\":false,\"content\":[{\"type\":\"text\",\"text\":\"{\\\"stdout\\\":\\\"hi\\\\n\\\",\\\"stderr\\\":\\\"\\\",\\\"exit_code\\\":0}\"}]}}"}"#;
    let output = parse_link_response(body).unwrap();
    assert!(!output.is_error);
    let outcome = parse_shell_result(output.text.as_deref().unwrap(), output.is_error);
    assert_eq!((outcome.success, outcome.stdout.as_str()), (true, "hi\n"));
    assert!(
        parse_link_response(br#"{"success": true}"#).is_err(),
        "missing data"
    );
    assert!(
        parse_link_response(br#"{"data": {"result": "x"}}"#).is_err(),
        "non-object result"
    );
    assert_eq!(
        parse_link_response(br#"{"data": {}}"#).unwrap().text,
        None,
        "no result is an empty success"
    );
}

#[test]
fn list_tools_data_is_a_json_string() {
    let envelope: Envelope<ToolsData> = Envelope::from_slice(
        br#"{"success": true, "requestId": "r", "data": "[{\"name\": \"run_code\", \"description\": \"Run code\", \"inputSchema\": {\"type\": \"object\", \"properties\": {\"code\": {\"type\": \"string\"}}, \"required\": [\"code\"]}, \"server\": \"wuying_codespace\", \"tool\": \"run_code\"}]"}"#,
    )
    .unwrap();
    let tools = envelope.data.unwrap().0;
    assert_eq!(tools.len(), 1);
    assert_eq!(
        (tools[0].name.as_str(), tools[0].server.as_str()),
        ("run_code", "wuying_codespace")
    );
    assert_eq!(tools[0].input_schema["required"], json!(["code"]));
    let encoded = serde_json::to_value(ToolsData(tools)).unwrap();
    assert!(encoded.is_string(), "the server must send a string");
}

#[test]
fn metrics_sample_and_aliases() {
    let metrics = Metrics::parse(r#"{"cpu_count": 4, "cpu_used_pct": 12.5, "mem_total": 8589934592, "mem_used": 1073741824, "disk_total": 107374182400, "disk_used": 5368709120, "rx_rate_kbyte_per_s": 1.2, "tx_rate_kbyte_per_s": 0.4, "rx_used_kbyte": 2048.0, "tx_used_kbyte": 512.0, "timestamp": "2026-01-10T08:00:00Z"}"#).unwrap();
    assert_eq!(metrics.cpu_count, Some(4));
    assert_eq!(metrics.mem_total, Some(8_589_934_592));
    assert_eq!(metrics.rx_used_kbyte, Some(2048.0));
    assert_eq!(metrics.timestamp.as_deref(), Some("2026-01-10T08:00:00Z"));
    let metrics = Metrics::parse(
        r#"{"rx_rate_kbps": 1.5, "tx_rate_KBps": 2.5, "rx_used_kb": 3, "tx_used_KB": 4}"#,
    )
    .unwrap();
    assert_eq!(
        (
            metrics.rx_rate_kbyte_per_s,
            metrics.tx_rate_kbyte_per_s,
            metrics.rx_used_kbyte,
            metrics.tx_used_kbyte
        ),
        (Some(1.5), Some(2.5), Some(3.0), Some(4.0))
    );
    assert!(
        Metrics::parse("[1]").is_err(),
        "non-object JSON is a failure"
    );
}

#[test]
fn internal_context_sample() {
    let envelope: Envelope<Vec<InternalContext>> = Envelope::from_slice(
        br#"{"success": true, "requestId": "r-31", "data": [{"contextId": "SdkCtx-ft-01", "contextType": "file_transfer", "contextPath": "/home/user/file-transfer"}]}"#,
    )
    .unwrap();
    let contexts = envelope.data.unwrap();
    assert_eq!(contexts[0].context_type, FILE_TRANSFER);
    assert_eq!(contexts[0].context_path, "/home/user/file-transfer");
}

#[test]
fn context_status_is_doubly_encoded() {
    let body = br#"{"success": true, "requestId": "r-77", "data": {"contextStatus": "[{\"type\":\"data\",\"data\":\"[{\\\"contextId\\\":\\\"SdkCtx-1\\\",\\\"path\\\":\\\"/home/user/project\\\",\\\"status\\\":\\\"Success\\\",\\\"taskType\\\":\\\"download\\\",\\\"startTime\\\":1767225600,\\\"finishTime\\\":1767225601,\\\"errorMessage\\\":\\\"\\\"}]\"}]"}}"#;
    let envelope: Envelope<ContextInfoData> = Envelope::from_slice(body).unwrap();
    let items = envelope.data.unwrap().context_status;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(
        (
            item.context_id.as_str(),
            item.path.as_str(),
            item.status.as_str()
        ),
        ("SdkCtx-1", "/home/user/project", sync_status::SUCCESS)
    );
    assert_eq!(
        (item.mode(), item.start_time, item.finish_time),
        (
            Some(SyncMode::Download),
            Some(1_767_225_600),
            Some(1_767_225_601)
        )
    );
    assert!(item.is_terminal());

    let encoded = serde_json::to_value(ContextInfoData {
        context_status: items.clone(),
    })
    .unwrap();
    let outer: serde_json::Value =
        serde_json::from_str(encoded["contextStatus"].as_str().unwrap()).unwrap();
    assert_eq!(outer[0]["type"], "data");
    assert!(
        outer[0]["data"].is_string(),
        "the inner array is a JSON string too"
    );

    let empty: ContextInfoData = serde_json::from_str(r#"{"contextStatus": ""}"#).unwrap();
    assert!(empty.context_status.is_empty());
    let absent: ContextInfoData = serde_json::from_str("{}").unwrap();
    assert!(absent.context_status.is_empty());
    let decoded_array: ContextInfoData = serde_json::from_value(json!({"contextStatus": [
        {"type": "data", "data": [{"contextId": "c", "path": "/p", "status": "Running", "taskType": "upload"}]},
        {"type": "other", "data": "ignored"}
    ]}))
    .unwrap();
    assert_eq!(
        decoded_array.context_status.len(),
        1,
        "TS accepts an already-decoded array"
    );
    assert!(!decoded_array.context_status[0].is_terminal());
}

// ---- §1.5 / §1.6: envelope and success rules ------------------------------------------------

#[test]
fn success_rules_follow_the_python_sdk() {
    let ok: Envelope<serde_json::Value> =
        Envelope::from_slice(br#"{"success": true, "code": "ok", "message": "", "requestId": "7F3C-11", "httpStatusCode": 200, "data": {"status": "RUNNING"}}"#).unwrap();
    let not_true: Envelope<serde_json::Value> =
        Envelope::from_slice(br#"{"success": "true", "requestId": "x"}"#).unwrap();
    assert!(!not_true.success, "success must be the JSON literal true");
    for (status, rule, expected) in [
        (200, SuccessRule::StatusBelow400, true),
        (204, SuccessRule::StatusBelow400, true),
        (400, SuccessRule::StatusBelow400, false),
        (200, SuccessRule::Status200, true),
        (204, SuccessRule::Status200, false),
        (200, SuccessRule::Status200IgnoreEnvelope, true),
    ] {
        assert_eq!(ok.is_success(status, rule), expected, "{status} {rule:?}");
    }
    assert!(!not_true.is_success(200, SuccessRule::Status200));
    assert!(
        not_true.is_success(200, SuccessRule::Status200IgnoreEnvelope),
        "getMcpResource ignores the envelope"
    );
    assert!(!not_true.is_success(500, SuccessRule::Status200IgnoreEnvelope));
}

#[test]
fn tool_output_rules() {
    let ok: Envelope<ToolCallData> = Envelope::ok("r", ToolCallData::ok("fine"));
    assert_eq!(ok.tool_output(200).text.as_deref(), Some("fine"));
    assert!(ok.tool_output(200).success);
    assert!(!ok.tool_output(500).success);
    let mut api_error: Envelope<ToolCallData> =
        Envelope::error("r", 400, ErrorCode::SessionNotFound, "Session not found");
    api_error.data = Some(ToolCallData::error("detail"));
    assert_eq!(
        api_error.tool_output(400).error_message,
        "Session not found",
        "envelope message wins"
    );
    let no_data: Envelope<ToolCallData> = Envelope::ok_empty("r");
    assert!(
        no_data.tool_output(200).success,
        "tool success when data is absent"
    );
    assert_eq!(no_data.tool_output(200).text, None);
    let silent: Envelope<ToolCallData> = Envelope::ok(
        "r",
        ToolCallData {
            content: vec![],
            is_error: true,
        },
    );
    assert_eq!(
        silent.tool_output(200).error_message,
        "Tool execution failed"
    );
    let image: ToolCallData = serde_json::from_value(
        json!({"content": [{"type": "image", "data": "iVBO", "mimeType": "image/png"}]}),
    )
    .unwrap();
    assert_eq!(
        image.result_text().as_deref(),
        Some("iVBO"),
        "first image's data when there is no text"
    );
    let two: ToolCallData = serde_json::from_value(json!({"content": [{"type": "text", "text": "a"}, {"type": "image", "data": "x"}, {"type": "text", "text": "b"}]})).unwrap();
    assert_eq!(two.result_text().as_deref(), Some("a\nb"));
}

#[test]
fn error_envelope_and_capitalised_keys() {
    let envelope: Envelope<serde_json::Value> = Envelope::from_slice(
        br#"{"Success": false, "Code": "Throttling", "Message": "slow down", "RequestId": "R1"}"#,
    )
    .unwrap();
    assert_eq!(envelope.code, ErrorCode::Throttling);
    assert_eq!(
        (envelope.message.as_str(), envelope.request_id.as_str()),
        ("slow down", "R1")
    );
    let envelope: Envelope<SessionStatusData> =
        Envelope::from_slice(br#"{"success": false, "code": "X", "message": "m", "data": [1, 2]}"#)
            .unwrap();
    assert_eq!(
        envelope.data, None,
        "a failed envelope's odd data is dropped, not fatal"
    );
    let envelope: Envelope<serde_json::Value> =
        Envelope::from_slice(br#"{"success": false, "code": "Other.Thing", "message": "session not found", "httpStatusCode": "400"}"#).unwrap();
    assert!(envelope.is_session_gone(), "message mentions not found");
    assert_eq!(
        envelope.http_status_code,
        Some(400),
        "a numeric string status is accepted"
    );
    assert_eq!(envelope.code, ErrorCode::Other("Other.Thing".into()));
}

#[test]
fn tool_outputs_feed_the_shell_and_code_parsers() {
    use agbcloud_wire::tools::code::{CodeExecution, RunCodeReport};
    use agbcloud_wire::tools::shell::{CommandOutcome, ShellReport};

    let report = ShellReport::finished("", "boom\n", 2);
    let data = report.to_tool_data();
    assert!(data.is_error, "a non-zero exit is a tool-level error");
    let outcome = CommandOutcome::from_tool_output(&Envelope::ok("r", data).tool_output(200));
    assert_eq!(
        (
            outcome.success,
            outcome.exit_code,
            outcome.error_message.as_str()
        ),
        (false, Some(2), "boom\n")
    );
    let outcome = CommandOutcome::from_tool_output(
        &Envelope::ok("r", ShellReport::finished("hi\n", "", 0).to_tool_data()).tool_output(200),
    );
    assert_eq!((outcome.success, outcome.stdout.as_str()), (true, "hi\n"));

    let gone: Envelope<ToolCallData> =
        Envelope::error("r", 400, ErrorCode::SessionNotFound, "Session not found");
    let run = CodeExecution::from_tool_output(&gone.tool_output(400));
    assert_eq!(
        (run.success, run.error_message.as_str()),
        (false, "Session not found")
    );
    let report = RunCodeReport {
        execution_error: "ValueError: bad".into(),
        ..RunCodeReport::default()
    };
    let data = report.to_tool_data();
    assert!(!data.is_error, "code errors are data, not tool errors");
    let run = CodeExecution::from_tool_output(&Envelope::ok("r", data).tool_output(200));
    assert_eq!(
        (run.success, run.error_message.as_str()),
        (false, "ValueError: bad")
    );
}

#[test]
fn decoding_tolerates_what_other_clients_and_the_cloud_leave_out() {
    use agbcloud_wire::context::{ContextStatusItem, UploadMode};

    // A policy with only some keys gets the Python SDK's defaults for the rest.
    let policy: SyncPolicy =
        serde_json::from_str(r#"{"uploadPolicy": {"uploadMode": "Archive"}}"#).unwrap();
    assert_eq!(policy.upload_policy.upload_mode, UploadMode::Archive);
    assert!(policy.upload_policy.auto_upload);
    assert_eq!(
        policy.download_policy,
        SyncPolicy::default().download_policy
    );
    // Task types other than upload/download exist; they decode and are not sync directions.
    let item: ContextStatusItem =
        serde_json::from_str(r#"{"taskType": "extract", "status": "Running"}"#).unwrap();
    assert_eq!(item.mode(), None);
    // Empty status data and empty labels strings.
    let status: SessionStatusData = serde_json::from_str("{}").unwrap();
    assert_eq!(status.status, "");
    let labels: LabelsData = serde_json::from_str(r#"{"labels": ""}"#).unwrap();
    assert!(labels.labels.is_empty());
}

#[test]
fn run_code_stream_folds_into_a_result() {
    use agbcloud_wire::stream::{RunCodeStream, StreamStep};

    let frames = [
        r#"{"invocationId": "i", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "event", "seq": 1, "eventType": "stdout", "chunk": "hello\n"}}"#,
        r#"{"invocationId": "i", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "event", "seq": 2, "eventType": "result", "result": {"mime": {"text/plain": "42", "text": "ignored alias"}, "isMainResult": true}}}"#,
        r#"{"invocationId": "i", "source": "wuying_codespace", "target": "SDK", "data": {"phase": "end", "seq": 3, "status": "finished", "executionCount": 6, "executionTime": 1.02}}"#,
    ];
    let mut stream = RunCodeStream::new();
    let steps: Vec<StreamStep> = frames
        .iter()
        .map(|f| stream.push(&ServerFrame::parse(f).unwrap().data))
        .collect();
    assert_eq!(
        steps,
        [
            StreamStep::Continue,
            StreamStep::Continue,
            StreamStep::Finished
        ]
    );
    assert_eq!(stream.logs().stdout, ["hello\n"]);
    let run = stream.finish();
    assert!(run.success);
    assert_eq!((run.execution_count, run.execution_time), (Some(6), 1.02));
    assert_eq!(
        run.results,
        [ExecutionResult::text("42", true)],
        "MIME keys only on the stream path"
    );

    // An error event fails the run; its message is the error message; traceback carries the trace id.
    let mut stream = RunCodeStream::new();
    stream.push(&ServerFrame::parse(r#"{"invocationId": "i", "data": {"phase": "event", "eventType": "error", "error": {"code": "NameError", "message": "name 'x' is not defined", "traceId": "t-1"}}}"#).unwrap().data);
    stream.push(&ServerFrame::parse(r#"{"invocationId": "i", "data": {"phase": "end", "status": "finished", "executionCount": "7", "executionTime": null}}"#).unwrap().data);
    let run = stream.finish();
    assert!(!run.success);
    assert_eq!(run.error_message, "name 'x' is not defined");
    assert_eq!(
        run.error
            .as_ref()
            .map(|e| (e.name.as_str(), e.traceback.as_str())),
        Some(("NameError", "traceId=t-1"))
    );
    assert_eq!(
        (run.execution_count, run.execution_time),
        (None, 0.0),
        "a non-integer count is dropped"
    );

    // executionError wins; a bare failed status leaves the message empty.
    let mut stream = RunCodeStream::new();
    stream.push(&StreamData::end(
        2,
        Some(1),
        0.5,
        Some("ValueError: bad".into()),
    ));
    let run = stream.finish();
    assert_eq!(
        (run.success, run.error_message.as_str()),
        (false, "ValueError: bad")
    );
    assert_eq!(
        run.error.map(|e| (e.name, e.value)),
        Some(("ExecutionError".to_owned(), "ValueError: bad".to_owned())),
        "executionError becomes the error when no error event came"
    );
    let mut stream = RunCodeStream::new();
    stream.push(
        &ServerFrame::parse(
            r#"{"invocationId": "i", "data": {"phase": "end", "status": "failed"}}"#,
        )
        .unwrap()
        .data,
    );
    let run = stream.finish();
    assert_eq!((run.success, run.error_message.as_str()), (false, ""));

    // A non-empty `error` string fails the stream whatever the phase.
    let frame = ServerFrame::parse(r#"{"invocationId": "i", "data": {"phase": "end", "status": "finished", "error": "kernel died"}}"#).unwrap();
    let mut stream = RunCodeStream::new();
    assert_eq!(
        stream.push(&frame.data),
        StreamStep::Failed("kernel died".into())
    );
    assert_eq!(stream.finish().error_message, "kernel died");

    // A non-object result is plain text.
    let frame = ServerFrame::parse(r#"{"invocationId": "i", "data": {"phase": "event", "eventType": "result", "result": "7"}}"#).unwrap();
    let mut stream = RunCodeStream::new();
    stream.push(&frame.data);
    stream.push(&StreamData::end(2, None, 0.0, None));
    assert_eq!(stream.finish().results, [ExecutionResult::text("7", false)]);
}

#[test]
fn server_stream_helpers_render_what_the_client_reads() {
    use agbcloud_wire::stream::{RunCodeStream, StreamStep};

    let html = ExecutionResult {
        html: Some("<b>x</b>".into()),
        ..ExecutionResult::text("x", false)
    };
    let payloads = [
        StreamData::stdout(1, "a\n"),
        StreamData::stderr(2, "w\n"),
        StreamData::result(3, &html),
        StreamData::result(4, &ExecutionResult::text("2", true)),
        StreamData::end(5, Some(3), 0.25, None),
    ];
    let mut stream = RunCodeStream::new();
    for data in &payloads {
        let frame = ServerFrame::new("inv", "wuying_codespace", data.clone());
        let json = frame.to_json();
        assert!(json.len() < agbcloud_wire::stream::MAX_FRAME_BYTES);
        let step = stream.push(&ServerFrame::parse(&json).unwrap().data);
        assert_eq!(
            step == StreamStep::Finished,
            matches!(data, StreamData::End(_))
        );
    }
    let run = stream.finish();
    assert!(run.success);
    assert_eq!(
        (run.logs.stdout.as_slice(), run.logs.stderr.as_slice()),
        (&["a\n".to_owned()][..], &["w\n".to_owned()][..])
    );
    assert_eq!(run.results, [html, ExecutionResult::text("2", true)]);
    assert_eq!(run.main_text(), "2");
}

#[test]
fn release_envelope_nested_in_body() {
    let envelope: Envelope<Ignored> = Envelope::from_slice(
        br#"{"body": {"Success": true, "Code": "ok", "RequestId": "R-9", "HttpStatusCode": 200}}"#,
    )
    .unwrap();
    assert!(envelope.is_success(200, endpoints::RELEASE_SESSION_ASYNC.success));
    assert_eq!(
        (envelope.request_id.as_str(), envelope.http_status_code),
        ("R-9", Some(200))
    );
    let plain: Envelope<serde_json::Value> =
        Envelope::from_slice(br#"{"success": true, "requestId": "r", "data": {"body": 1}}"#)
            .unwrap();
    assert_eq!(
        plain.data,
        Some(serde_json::json!({"body": 1})),
        "a normal envelope is not unwrapped"
    );
}

#[test]
fn tool_list_is_best_effort_and_text_items_without_text_count_as_empty() {
    let data: SessionData =
        serde_json::from_str(r#"{"sessionId": "s", "toolList": "not json"}"#).unwrap();
    assert_eq!(
        (data.session_id.as_deref(), data.tool_list),
        (Some("s"), None),
        "a bad toolList does not fail the create"
    );
    let data: SessionData =
        serde_json::from_str(r#"{"sessionId": "s", "toolList": "[{\"server\": \"x\"}]"}"#).unwrap();
    assert_eq!(
        data.tool_list.unwrap()[0].name,
        "",
        "a nameless entry decodes"
    );

    let data: ToolCallData = serde_json::from_value(
        json!({"content": [{"type": "text"}, {"type": "image", "data": "x"}]}),
    )
    .unwrap();
    assert_eq!(
        data.result_text().as_deref(),
        Some(""),
        "Python joins item.get('text', '')"
    );
}

#[test]
fn context_file_entries_from_the_cloud() {
    use agbcloud_wire::context::ContextFileEntry;

    let envelope: Envelope<Vec<ContextFileEntry>> = Envelope::from_slice(
        br#"{"success": true, "requestId": "r", "count": "2", "data": [
            {"fileId": "f1", "fileName": "a.txt", "filePath": "/home/user/a.txt", "fileType": "file", "size": "12", "status": "ok"},
            {"fileId": "f2", "fileName": "d", "filePath": "/home/user/d", "fileType": "directory", "size": null}
        ]}"#,
    )
    .unwrap();
    assert_eq!(
        envelope.count,
        Some(2),
        "count at the top level, numeric string accepted"
    );
    let files = envelope.data.unwrap();
    assert_eq!((files[0].size, files[1].size), (12, 0));
    assert_eq!(files[0].file_path, "/home/user/a.txt");
}
