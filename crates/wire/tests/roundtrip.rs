//! Property tests: every request and response type survives encode then decode unchanged, as
//! do tool arguments, rendered tool results and stream frames.

use std::collections::BTreeMap;
use std::fmt::Debug;

use agbcloud_wire::context::*;
use agbcloud_wire::session::*;
use agbcloud_wire::stream::*;
use agbcloud_wire::tools::code::{
    ExecutionResult, Language, RunCodeArgs, RunCodeReport, parse_run_code_result,
};
use agbcloud_wire::tools::fs::*;
use agbcloud_wire::tools::link::{parse_link_response, render_link_response};
use agbcloud_wire::tools::metrics::Metrics;
use agbcloud_wire::tools::shell::{ShellArgs, ShellReport, parse_shell_result};
use agbcloud_wire::tools::{CallToolParams, ContentItem, McpTool, NoArgs, ToolArgs, ToolCallData};
use agbcloud_wire::{
    ApiCall, Envelope, ErrorCode, Ignored, SandboxPath, decode_query, decode_request, encode_query,
};
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

// ---- strategies --------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 _./:+%&=?#-]{0,24}"]
}

fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,16}"
}

fn labels() -> impl Strategy<Value = Labels> {
    btree_map(text(), text(), 0..4)
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (0u32..1_000_000).prop_map(|n| f64::from(n) / 1000.0)
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        finite().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text(), json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

fn sandbox_path() -> impl Strategy<Value = SandboxPath> {
    vec("[^/\u{0}]{1,8}", 0..4).prop_filter_map("valid components", |parts| {
        SandboxPath::parse(&format!("/{}", parts.join("/"))).ok()
    })
}

fn sync_mode() -> impl Strategy<Value = SyncMode> {
    prop_oneof![Just(SyncMode::Upload), Just(SyncMode::Download)]
}

prop_compose! {
    fn sync_policy()(
        auto_upload in any::<bool>(), archive in any::<bool>(), auto_download in any::<bool>(),
        sync_local_file in any::<bool>(), flags in any::<(bool, bool, bool)>(),
        lifecycle in prop_oneof![Just(Lifecycle::OneDay), Just(Lifecycle::ThirtyDays), Just(Lifecycle::Forever)],
        paths in vec(text(), 0..3),
        white_lists in vec((text(), vec(text(), 0..2)), 0..2),
        mapping in of(text()),
    ) -> SyncPolicy {
        SyncPolicy {
            upload_policy: UploadPolicy {
                auto_upload,
                upload_strategy: UploadStrategy::UploadBeforeResourceRelease,
                upload_mode: if archive { UploadMode::Archive } else { UploadMode::File },
            },
            download_policy: DownloadPolicy { auto_download, download_strategy: DownloadStrategy::DownloadAsync },
            delete_policy: DeletePolicy { sync_local_file },
            extract_policy: ExtractPolicy { extract: flags.0, delete_src_file: flags.1, extract_to_current_folder: flags.2 },
            recycle_policy: RecyclePolicy { lifecycle, paths },
            bw_list: BwList {
                white_lists: white_lists.into_iter().map(|(path, exclude_paths)| WhiteList { path, exclude_paths }).collect(),
            },
            mapping_policy: mapping.map(|path| MappingPolicy { path }),
        }
    }
}

prop_compose! {
    fn create_session_params()(
        image_id in text(),
        stats in of((text(), text(), any::<bool>())),
        session_id in of(text()), context_id in of(text()), mcp_policy_id in of(text()),
        mounts in vec((id(), text(), sync_policy()), 0..3),
        labels in of(labels()),
        timeout in of(any::<u64>()),
    ) -> CreateSessionParams {
        CreateSessionParams {
            image_id,
            sdk_stats: stats.map(|(sdk_language, sdk_version, is_release)| SdkStats { source: "sdk".into(), sdk_language, sdk_version, is_release }),
            session_id,
            persistence_data_list: mounts.into_iter().map(|(context_id, path, policy)| PersistenceData { context_id, path, policy }).collect(),
            context_id,
            labels,
            mcp_policy_id,
            timeout,
        }
    }
}

prop_compose! {
    fn session_data()(
        strings in vec(of(text()), 11),
        success in of(any::<bool>()),
        tools in of(vec((text(), text()), 0..3)),
    ) -> SessionData {
        let mut s = strings.into_iter();
        let mut next = || s.next().flatten();
        SessionData {
            session_id: next(), success, err_msg: next(), resource_url: next(), app_instance_id: next(),
            resource_id: next(), task_id: next(), network_interface_ip: next(), link_url: next(),
            ws_url: next(), token: next(),
            tool_list: tools.map(|t| t.into_iter().map(|(name, server)| ToolRoute { name, server }).collect()),
            status: None,
        }
    }
}

prop_compose! {
    fn call_tool_params()(
        session_id in text(), name in text(), args in json_object(), image_id in of(text()), server in of(text()),
    ) -> CallToolParams {
        CallToolParams { image_id, server, ..CallToolParams::raw(session_id, name, args) }
    }
}

prop_compose! {
    fn content_item()(kind in prop_oneof![Just("text".to_owned()), Just("image".to_owned()), text()],
                      fields in vec(of(text()), 4)) -> ContentItem {
        ContentItem { kind, text: fields[0].clone(), data: fields[1].clone(), blob: fields[2].clone(), mime_type: fields[3].clone() }
    }
}

prop_compose! {
    fn tool_call_data()(content in vec(content_item(), 0..3), is_error in any::<bool>()) -> ToolCallData {
        ToolCallData { content, is_error }
    }
}

prop_compose! {
    fn mcp_tool()(name in text(), description in text(), input_schema in json_value(), server in text(), tool in text()) -> McpTool {
        McpTool { name, description, input_schema, server, tool }
    }
}

prop_compose! {
    fn context_data()(id in text(), name in text(), state in of(text()), create_time in of(text()), last_used_time in of(text())) -> ContextData {
        ContextData { id, name, state, create_time, last_used_time }
    }
}

prop_compose! {
    fn status_item()(context_id in text(), path in text(), status in text(), task_type in prop_oneof![Just("upload".to_owned()), Just("download".to_owned()), text()],
                     start_time in of(any::<i64>()), finish_time in of(any::<i64>()), error_message in text()) -> ContextStatusItem {
        ContextStatusItem { context_id, path, status, task_type, start_time, finish_time, error_message }
    }
}

prop_compose! {
    fn file_entry()(s in vec(text(), 7), size in any::<u64>()) -> ContextFileEntry {
        ContextFileEntry { file_id: s[0].clone(), file_name: s[1].clone(), file_path: s[2].clone(), file_type: s[3].clone(),
                           gmt_create: s[4].clone(), gmt_modified: s[5].clone(), size, status: s[6].clone() }
    }
}

fn mime_result() -> impl Strategy<Value = ExecutionResult> {
    (
        vec(of(text()), 7),
        of(json_value().prop_filter("null means absent", |v| !v.is_null())),
        of(json_object()),
        any::<bool>(),
    )
        .prop_map(|(s, json, chart, is_main_result)| ExecutionResult {
            text: s[0].clone(),
            html: s[1].clone(),
            markdown: s[2].clone(),
            png: s[3].clone(),
            jpeg: s[4].clone(),
            svg: s[5].clone(),
            latex: s[6].clone(),
            json,
            chart,
            is_main_result,
        })
}

// ---- helpers -----------------------------------------------------------------------------------

/// Client encodes, server decodes: the params come back unchanged.
fn request_round_trip<C: ApiCall + PartialEq + Debug>(params: &C) -> Result<(), TestCaseError> {
    let request = params
        .to_request()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded: C = decode_request(
        &request.query_string(),
        request.body.as_deref().unwrap_or_default(),
    )
    .map_err(|e| TestCaseError::fail(format!("{e}: {request:?}")))?;
    prop_assert_eq!(&decoded, params);
    Ok(())
}

/// Server encodes an envelope with this data, client decodes: unchanged.
fn envelope_round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug + Clone>(
    data: T,
    request_id: String,
    pagination: (Option<String>, Option<u32>, Option<u64>),
) -> Result<(), TestCaseError> {
    let envelope =
        Envelope::ok(request_id, data).with_pagination(pagination.0, pagination.1, pagination.2);
    let bytes = envelope
        .to_vec()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded: Envelope<T> =
        Envelope::from_slice(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(decoded, envelope);
    Ok(())
}

/// A tool call with typed args: client encodes, server decodes the call and then the args.
fn tool_args_round_trip<A: ToolArgs + PartialEq + Debug>(args: &A) -> Result<(), TestCaseError> {
    let params =
        CallToolParams::new("s-1", args).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(params.name.as_str(), A::NAME);
    let request = params
        .to_request()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded: CallToolParams = decode_request(
        &request.query_string(),
        request.body.as_deref().unwrap_or_default(),
    )
    .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded_args: A = decoded
        .decode_args()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded_args, args);
    Ok(())
}

fn pagination() -> impl Strategy<Value = (Option<String>, Option<u32>, Option<u64>)> {
    (of(text()), of(any::<u32>()), of(any::<u64>()))
}

// ---- requests ----------------------------------------------------------------------------------

proptest! {
    #[test]
    fn query_strings_round_trip(pairs in vec((text(), text()), 0..5)) {
        prop_assert_eq!(decode_query(&encode_query(&pairs)), pairs);
    }

    #[test]
    fn create_session(params in create_session_params()) { request_round_trip(&params)?; }

    #[test]
    fn session_id_bodies(session_id in text()) {
        request_round_trip(&GetSessionParams::new(session_id.clone()))?;
        request_round_trip(&GetSessionInfoParams::new(session_id.clone()))?;
        request_round_trip(&ReleaseSessionAsyncParams::new(session_id.clone()))?;
        request_round_trip(&ReleaseSessionParams::new(session_id.clone()))?;
        request_round_trip(&RefreshSessionIdleTimeParams::new(session_id.clone()))?;
        request_round_trip(&GetMcpResourceParams::new(session_id))?;
    }

    #[test]
    fn list_session(max_results in any::<u32>(), next_token in of(text()), labels in labels(), is_all in of(any::<bool>())) {
        request_round_trip(&ListSessionParams { max_results, next_token, labels, is_all })?;
    }

    #[test]
    fn call_mcp_tool(params in call_tool_params()) { request_round_trip(&params)?; }

    #[test]
    fn list_tools(image_id in text()) { request_round_trip(&ListToolsParams { image_id })?; }

    #[test]
    fn labels_requests(session_id in text(), labels in labels(), max_results in of(any::<u32>()), next_token in of(text())) {
        request_round_trip(&SetLabelParams { session_id: session_id.clone(), labels })?;
        request_round_trip(&GetLabelParams { session_id, max_results, next_token })?;
    }

    #[test]
    fn get_link(session_id in text(), protocol_type in of(text()), port in of(any::<u16>())) {
        request_round_trip(&GetLinkParams { session_id, protocol_type, port })?;
    }

    #[test]
    fn context_requests(
        id in text(), name in text(), max_results in any::<u32>(), next_token in of(text()),
        lookup in (of(text()), of(text()), any::<bool>(), of(text())),
    ) {
        request_round_trip(&ListContextsParams { max_results, next_token })?;
        request_round_trip(&GetContextParams { id: lookup.0, name: lookup.1, allow_create: lookup.2, login_region_id: lookup.3 })?;
        request_round_trip(&ModifyContextParams { id: id.clone(), name })?;
        request_round_trip(&DeleteContextParams { id: id.clone() })?;
        request_round_trip(&ClearContextParams { id })?;
    }

    #[test]
    fn sync_requests(session_id in text(), context_id in of(text()), path in of(text()), mode in of(sync_mode())) {
        request_round_trip(&SyncContextParams { session_id: session_id.clone(), context_id: context_id.clone(), path: path.clone(), mode })?;
        request_round_trip(&GetContextInfoParams { session_id, context_id, path, task_type: mode })?;
    }

    #[test]
    fn context_file_requests(
        context_id in text(), file_path in text(), parent in of(text()), page in any::<(u32, u32)>(),
        session_id in text(), context_types in vec(text(), 0..3),
    ) {
        request_round_trip(&GetContextFileUploadUrlParams { context_id: context_id.clone(), file_path: file_path.clone() })?;
        request_round_trip(&GetContextFileDownloadUrlParams { context_id: context_id.clone(), file_path: file_path.clone() })?;
        request_round_trip(&DeleteContextFileParams { context_id: context_id.clone(), file_path })?;
        request_round_trip(&DescribeContextFilesParams { context_id, parent_folder_path: parent, page_number: page.0, page_size: page.1 })?;
        request_round_trip(&GetAndLoadInternalContextParams { session_id, context_types })?;
    }
}

// ---- responses ---------------------------------------------------------------------------------

proptest! {
    #[test]
    fn error_codes_round_trip_as_plain_strings(code in text()) {
        let parsed = ErrorCode::from_wire(&code);
        prop_assert_eq!(parsed.as_str(), code.as_str());
        let json = serde_json::to_string(&parsed).unwrap();
        prop_assert_eq!(json, serde_json::to_string(&code).unwrap());
    }

    #[test]
    fn error_envelopes(request_id in text(), status in any::<u16>(), code in text(), message in text()) {
        let envelope: Envelope<SessionStatusData> = Envelope::error(request_id, status, ErrorCode::from_wire(&code), message);
        let decoded: Envelope<SessionStatusData> = Envelope::from_slice(&envelope.to_vec().unwrap()).unwrap();
        prop_assert_eq!(decoded, envelope);
    }

    #[test]
    fn session_responses(data in session_data(), status in of(text()), rid in text(), page in pagination()) {
        envelope_round_trip(SessionData { status, ..data }, rid.clone(), page.clone())?;
        envelope_round_trip(SessionStatusData { status: rid.clone() }, rid.clone(), page.clone())?;
        envelope_round_trip(Ignored, rid, page)?;
    }

    #[test]
    fn list_session_response(items in vec((text(), text()), 0..4), rid in text(), page in pagination()) {
        let items: Vec<SessionSummary> = items.into_iter().map(|(session_id, session_status)| SessionSummary { session_id, session_status }).collect();
        envelope_round_trip(items, rid, page)?;
    }

    #[test]
    fn tool_responses(data in tool_call_data(), tools in vec(mcp_tool(), 0..3), rid in text()) {
        envelope_round_trip(data, rid.clone(), (None, None, None))?;
        envelope_round_trip(ToolsData(tools), rid, (None, None, None))?;
    }

    #[test]
    fn resource_label_and_link_responses(
        session_id in text(), url in text(), desktop in of(vec(of(text()), 6)),
        labels in labels(), count in of(any::<u64>()), next_token in of(text()), max_results in of(any::<u32>()),
    ) {
        let desktop_info = desktop.map(|d| DesktopInfo {
            app_id: d[0].clone(), auth_code: d[1].clone(), connection_properties: d[2].clone(),
            resource_id: d[3].clone(), resource_type: d[4].clone(), ticket: d[5].clone(),
        });
        envelope_round_trip(McpResourceData { session_id, resource_url: url.clone(), desktop_info }, "r".into(), (None, None, None))?;
        envelope_round_trip(LabelsData { labels, count, next_token, max_results }, "r".into(), (None, None, None))?;
        envelope_round_trip(UrlData { url }, "r".into(), (None, None, None))?;
    }

    #[test]
    fn context_responses(
        contexts in vec(context_data(), 0..3), items in vec(status_item(), 0..3), files in vec(file_entry(), 0..3),
        url in text(), expire_time in of(any::<i64>()), internal in vec((text(), text(), text()), 0..2), rid in text(),
    ) {
        if let Some(first) = contexts.first() {
            envelope_round_trip(first.clone(), rid.clone(), (None, None, None))?;
        }
        envelope_round_trip(contexts, rid.clone(), (None, None, None))?;
        envelope_round_trip(ContextInfoData { context_status: items }, rid.clone(), (None, None, None))?;
        envelope_round_trip(files, rid.clone(), (None, None, Some(3)))?;
        envelope_round_trip(FileUrlData { url, expire_time }, rid.clone(), (None, None, None))?;
        let internal: Vec<InternalContext> = internal.into_iter()
            .map(|(context_id, context_type, context_path)| InternalContext { context_id, context_type, context_path })
            .collect();
        envelope_round_trip(internal, rid, (None, None, None))?;
    }
}

// ---- tools -------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn shell_and_code_args(
        command in text(), timeout_ms in of(any::<u64>()), cwd in of(text()), envs in of(btree_map(text(), text(), 0..3)),
        code in text(), language in prop_oneof![Just(Language::Python), Just(Language::JavaScript), Just(Language::Java), Just(Language::R)],
        timeout_s in any::<u64>(),
    ) {
        tool_args_round_trip(&ShellArgs { command, timeout_ms, cwd, envs })?;
        tool_args_round_trip(&RunCodeArgs { code, language, timeout_s })?;
        tool_args_round_trip(&NoArgs {})?;
    }

    #[test]
    fn file_system_args(
        path in sandbox_path(), other in sandbox_path(), paths in vec(sandbox_path(), 0..3),
        edits in vec((text(), text()), 0..3), dry_run in any::<bool>(),
        offset in any::<u64>(), length in of(any::<u64>()), binary in of(any::<bool>()),
        content in text(), mode in prop_oneof![Just(WriteMode::Overwrite), Just(WriteMode::Append), Just(WriteMode::CreateNew)],
        pattern in text(), exclude in of(vec(text(), 0..3)),
    ) {
        tool_args_round_trip(&CreateDirectoryArgs::new(path.clone()))?;
        tool_args_round_trip(&GetFileInfoArgs::new(path.clone()))?;
        tool_args_round_trip(&ListDirectoryArgs::new(path.clone()))?;
        tool_args_round_trip(&DeleteFileArgs::new(path.clone()))?;
        tool_args_round_trip(&GetFileChangeArgs::new(path.clone()))?;
        let edits = edits.into_iter().map(|(old_text, new_text)| TextEdit { old_text, new_text }).collect();
        tool_args_round_trip(&EditFileArgs { path: path.clone(), edits, dry_run })?;
        tool_args_round_trip(&MoveFileArgs { source: path.clone(), destination: other })?;
        let format = binary.map(|b| if b { ReadFormat::Binary } else { ReadFormat::Text });
        tool_args_round_trip(&ReadFileArgs { path: path.clone(), offset, length, format })?;
        tool_args_round_trip(&WriteFileArgs { path: path.clone(), content, mode })?;
        tool_args_round_trip(&ReadMultipleFilesArgs { paths })?;
        tool_args_round_trip(&SearchFilesArgs { path, pattern, exclude_patterns: exclude })?;
    }

    #[test]
    fn shell_reports_parse_back(stdout in text(), stderr in text(), exit_code in any::<i32>(), trace_id in text()) {
        let report = ShellReport { trace_id, ..ShellReport::finished(stdout.clone(), stderr.clone(), i64::from(exit_code)) };
        let parsed: ShellReport = serde_json::from_str(&report.render()).unwrap();
        prop_assert_eq!(&parsed, &report);
        let outcome = parse_shell_result(&report.render(), report.is_error());
        prop_assert_eq!(outcome.success, exit_code == 0);
        prop_assert_eq!(outcome.exit_code, Some(i64::from(exit_code)));
        prop_assert_eq!(&outcome.stdout, &stdout);
        prop_assert_eq!(&outcome.stderr, &stderr);
        prop_assert_eq!(outcome.output, format!("{stdout}{stderr}"));
        prop_assert_eq!(outcome.trace_id, report.trace_id);
    }

    #[test]
    fn run_code_reports_parse_back(
        result in vec(mime_result(), 0..3), stdout in vec(text(), 0..3), stderr in vec(text(), 0..3),
        execution_count in of(any::<i64>()), execution_time in finite(), execution_error in text(),
    ) {
        let report = RunCodeReport { result, stdout, stderr, execution_count, execution_time, execution_error };
        let parsed: RunCodeReport = serde_json::from_str(&report.render()).unwrap();
        prop_assert_eq!(&parsed, &report);
        let run = parse_run_code_result(&report.render());
        prop_assert_eq!(run.success, report.execution_error.is_empty());
        prop_assert_eq!(&run.results, &report.result);
        prop_assert_eq!(&run.logs.stdout, &report.stdout);
        prop_assert_eq!(&run.logs.stderr, &report.stderr);
        prop_assert_eq!(run.execution_count, report.execution_count);
        prop_assert_eq!(run.execution_time, report.execution_time);
        prop_assert_eq!(&run.error_message, &report.execution_error);
    }

    #[test]
    fn directory_listings_parse_back(entries in vec(("[^\\s]([^\n]{0,10}[^\\s])?", any::<bool>()), 0..5)) {
        let entries: Vec<DirEntry> = entries.into_iter().map(|(name, is_directory)| DirEntry { name, is_directory }).collect();
        prop_assert_eq!(parse_directory_listing(&render_directory_listing(&entries)), entries);
    }

    #[test]
    fn file_info_parses_back(
        name in "[^\n\r:]{0,12}", path in sandbox_path().prop_filter("values are trimmed", |p| p.as_str().trim_end() == p.as_str()), size in any::<u64>(), kind in any::<(bool, bool)>(),
        optional in vec(of("[!-~]([ -~]{0,10}[!-~])?"), 5),
        extra in btree_map("[a-zA-Z][a-zA-Z0-9]{0,8}x", "[!-~]{0,10}", 0..3),
    ) {
        let info = FileInfo {
            name: name.trim().to_owned(), path: path.to_string(), size, is_directory: kind.0, is_file: kind.1,
            mod_time: optional[0].clone(), mode: optional[1].clone(), permissions: optional[2].clone(),
            owner: optional[3].clone(), group: optional[4].clone(), extra,
        };
        prop_assert_eq!(FileInfo::parse(&info.render()).unwrap(), info);
    }

    #[test]
    fn batch_reads_parse_back(files in vec(("/([^\n:]{0,9}[^\\s:])?", "([!-~]([^\n-]{0,20}[!-~])?)?"), 0..4)) {
        let entries: Vec<BatchReadEntry> = files.iter().map(|(p, c)| (p.clone(), Ok(c.clone()))).collect();
        prop_assert_eq!(parse_batch_read(&render_batch_read(&entries)), files);
    }

    #[test]
    fn search_results_parse_back(paths in vec(sandbox_path(), 0..4)) {
        let paths: Vec<SandboxPath> = paths.into_iter().filter(|p| p.as_str().trim() == p.as_str()).collect();
        let parsed = parse_search_results(&render_search_results(&paths));
        prop_assert_eq!(parsed, paths.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn file_changes_parse_back(events in vec((0..3u8, text(), any::<bool>()), 0..4)) {
        let events: Vec<FileChangeEvent> = events.into_iter().map(|(kind, path, dir)| FileChangeEvent {
            event_type: [ChangeKind::Create, ChangeKind::Modify, ChangeKind::Delete][usize::from(kind)],
            path,
            path_type: if dir { PathKind::Directory } else { PathKind::File },
        }).collect();
        prop_assert_eq!(parse_file_changes(&render_file_changes(&events)).unwrap(), events);
    }

    #[test]
    fn binary_chunks_round_trip(bytes in vec(any::<u8>(), 0..200)) {
        let encoded = encode_binary(&bytes);
        prop_assert!(!encoded.contains(char::is_whitespace));
        prop_assert_eq!(decode_binary(&encoded).unwrap(), bytes);
    }

    #[test]
    fn write_chunks_reassemble(content in "[a-zé€😀]{0,300}", big in any::<bool>()) {
        let content = if big { content.repeat(400) } else { content };
        let path = SandboxPath::parse("/f").unwrap();
        let chunks = write_chunks(&path, &content, WriteMode::Overwrite);
        prop_assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), content.clone());
        prop_assert!(chunks.iter().all(|c| c.content.chars().count() <= CHUNK_SIZE as usize));
        prop_assert_eq!(chunks[0].mode, WriteMode::Overwrite);
        prop_assert!(chunks[1..].iter().all(|c| c.mode == WriteMode::Append));
    }

    #[test]
    fn metrics_parse_back(
        cpu_count in of(any::<u32>()), floats in vec(of(finite()), 5), ints in vec(of(any::<u64>()), 4), timestamp in of(text()),
    ) {
        let metrics = Metrics {
            cpu_count, cpu_used_pct: floats[0], mem_total: ints[0], mem_used: ints[1], disk_total: ints[2], disk_used: ints[3],
            rx_rate_kbyte_per_s: floats[1], tx_rate_kbyte_per_s: floats[2], rx_used_kbyte: floats[3], tx_used_kbyte: floats[4],
            timestamp,
        };
        prop_assert_eq!(Metrics::parse(&metrics.render()).unwrap(), metrics);
    }

    #[test]
    fn link_responses_parse_back(data in tool_call_data()) {
        let output = parse_link_response(&render_link_response(&data)).unwrap();
        prop_assert_eq!(output.is_error, data.is_error);
        let expected = data.content.first().and_then(|item| {
            [&item.text, &item.blob, &item.data].into_iter().flatten().find(|t| !t.is_empty()).cloned()
        });
        prop_assert_eq!(output.text, expected);
    }
}

// ---- stream frames -----------------------------------------------------------------------------

fn stream_data() -> impl Strategy<Value = StreamData> {
    let seq = of(any::<u64>());
    prop_oneof![
        (seq.clone(), text()).prop_map(|(seq, chunk)| StreamData::Event(StreamEvent {
            seq,
            kind: StreamEventKind::Stdout { chunk }
        })),
        (seq.clone(), text()).prop_map(|(seq, chunk)| StreamData::Event(StreamEvent {
            seq,
            kind: StreamEventKind::Stderr { chunk }
        })),
        (seq.clone(), json_object(), any::<bool>()).prop_map(|(seq, mime, is_main_result)| {
            StreamData::Event(StreamEvent {
                seq,
                kind: StreamEventKind::Result {
                    result: StreamResult {
                        mime,
                        is_main_result,
                    },
                },
            })
        }),
        (seq.clone(), text(), text(), text()).prop_map(|(seq, code, message, trace_id)| {
            StreamData::Event(StreamEvent {
                seq,
                kind: StreamEventKind::Error {
                    error: StreamErrorInfo {
                        code,
                        message,
                        trace_id,
                    },
                },
            })
        }),
        (seq, any::<bool>(), of(any::<i64>()), finite(), of(text())).prop_map(
            |(seq, failed, execution_count, execution_time, execution_error)| {
                StreamData::End(StreamEnd {
                    seq,
                    status: if failed {
                        EndStatus::Failed
                    } else {
                        EndStatus::Finished
                    },
                    execution_count,
                    execution_time,
                    execution_error,
                })
            }
        ),
        of(text()).prop_map(|error| StreamData::Error(StreamFailure { error })),
    ]
}

proptest! {
    #[test]
    fn server_frames_round_trip(id in text(), source in text(), data in stream_data(), as_string in any::<bool>()) {
        let frame = ServerFrame::new(id, source, data);
        prop_assert_eq!(ServerFrame::parse(&frame.to_json()).unwrap(), frame.clone());
        if as_string {
            // Some servers send `data` as a JSON string.
            let mut value = serde_json::to_value(&frame).unwrap();
            value["data"] = Value::String(value["data"].to_string());
            prop_assert_eq!(ServerFrame::parse(&value.to_string()).unwrap(), frame);
        }
    }

    #[test]
    fn client_frames_round_trip(id in text(), target in text(), language in text(), timeout_s in any::<u64>(), code in text()) {
        let params = StreamRunCodeParams { language, timeout_s, code };
        let frame = ClientFrame::run_code(id.clone(), target.clone(), params.clone());
        let ClientMessage::Invoke(parsed) = ClientMessage::parse(&frame.to_json()).unwrap() else {
            return Err(TestCaseError::fail("an invocation frame parsed as a ping"));
        };
        prop_assert_eq!((parsed.invocation_id.as_str(), parsed.target.as_str(), parsed.source.as_str()), (id.as_str(), target.as_str(), SDK));
        prop_assert_eq!(parsed.params_as::<StreamRunCodeParams>().unwrap(), params);
    }
}

#[test]
fn labels_map_is_ordered_for_stable_bytes() {
    // BTreeMap: the same labels always encode to the same query bytes.
    let a: Labels = [("b", "2"), ("a", "1")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let b: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let query = |labels: Labels| {
        SetLabelParams {
            session_id: "s".into(),
            labels,
        }
        .to_request()
        .unwrap()
        .query_string()
    };
    assert_eq!(query(a), query(b));
}

proptest! {
    // §4.3: text reads come in byte ranges; a character straddling a chunk boundary must survive.
    #[test]
    fn text_chunks_reassemble_utf8(content in "[a-zé€😀\u{10FFFF}\n]{0,120}", chunk in 1usize..9) {
        let bytes = content.as_bytes();
        let mut rebuilt = String::new();
        let mut offset = 0;
        while offset < bytes.len() {
            let length = chunk.min(bytes.len() - offset);
            let window_end = (offset + length + UTF8_LOOKAHEAD).min(bytes.len());
            rebuilt.push_str(&text_chunk(&bytes[offset..window_end], offset as u64, length));
            offset += length;
        }
        prop_assert_eq!(rebuilt, content);
    }
}
