//! Contexts (§6): persistent storage, its REST endpoints, mount policies and sync status.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::serde_util::{json_string, lenient, lenient_opt, lenient_or_default};

/// A context: `{id, name, state, createTime, lastUsedTime}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextData {
    /// Context id, e.g. `SdkCtx-7`.
    #[serde(default)]
    pub id: String,
    /// Unique name per owner.
    #[serde(default)]
    pub name: String,
    /// `available`, `clearing` or `pre-available` (see [`state`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Free-form creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// Free-form last-use time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<String>,
}

/// Values of [`ContextData::state`].
pub mod state {
    /// Usable.
    pub const AVAILABLE: &str = "available";
    /// Being cleared.
    pub const CLEARING: &str = "clearing";
    /// Clear almost done (treated as in progress).
    pub const PRE_AVAILABLE: &str = "pre-available";
}

/// `GET /sdk/ListContexts?maxResults=[&nextToken]`; data: an array of [`ContextData`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListContextsParams {
    /// Page size (default 10).
    #[serde(deserialize_with = "lenient::deserialize")]
    pub max_results: u32,
    /// Page token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GET /sdk/GetContext?[id][&name][&loginRegionId]&allowCreate=true|false`.
///
/// Not idempotent when `allowCreate` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetContextParams {
    /// Look up by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Look up (or create) by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Create the context when no context has this name.
    #[serde(default, deserialize_with = "lenient::deserialize")]
    pub allow_create: bool,
    /// Region (ignored by a local server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_region_id: Option<String>,
}

/// `POST /sdk/ModifyContext?id=&name=` (rename), body `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyContextParams {
    /// Context id.
    pub id: String,
    /// New name.
    pub name: String,
}

/// `POST /sdk/DeleteContext?id=`, body `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteContextParams {
    /// Context id.
    pub id: String,
}

/// `POST /sdk/ClearContext?id=`, body `{}`; the state becomes `clearing`, then `available`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearContextParams {
    /// Context id.
    pub id: String,
}

/// Direction of a context sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Sandbox to storage (the default when `mode` is absent).
    Upload,
    /// Storage to sandbox.
    Download,
}

impl SyncMode {
    /// The wire name: `upload` or `download`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Download => "download",
        }
    }
}

/// `POST /sdk/SyncContext?sessionId[&contextId][&path][&mode]`, body `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncContextParams {
    /// The session.
    pub session_id: String,
    /// The context (with `path`), or all mounted contexts when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The sandbox path (with `contextId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Direction; absent means upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SyncMode>,
}

/// `GET /sdk/GetContextInfo?sessionId[&contextId][&path][&taskType]`; data [`ContextInfoData`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetContextInfoParams {
    /// The session.
    pub session_id: String,
    /// Filter by context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// Filter by path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Filter by task type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<SyncMode>,
}

/// Terminal and in-progress values of [`ContextStatusItem::status`] (terminal ones are
/// case-sensitive in the SDK's polling).
pub mod sync_status {
    /// Finished successfully (terminal).
    pub const SUCCESS: &str = "Success";
    /// Finished with an error (terminal).
    pub const FAILED: &str = "Failed";
    /// Queued.
    pub const PENDING: &str = "Pending";
    /// In progress.
    pub const RUNNING: &str = "Running";
}

/// One sync task status. Every field defaults when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContextStatusItem {
    /// Context id.
    pub context_id: String,
    /// Mount path or synced directory.
    pub path: String,
    /// See [`sync_status`].
    pub status: String,
    /// `upload` or `download` (other task types exist and are ignored by the SDK's polling;
    /// see [`ContextStatusItem::mode`]).
    pub task_type: String,
    /// Epoch seconds.
    #[serde(
        deserialize_with = "lenient_opt::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<i64>,
    /// Epoch seconds.
    #[serde(
        deserialize_with = "lenient_opt::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub finish_time: Option<i64>,
    /// Empty unless failed.
    pub error_message: String,
}

impl ContextStatusItem {
    /// The task type as a sync direction, or `None` for other task types.
    pub fn mode(&self) -> Option<SyncMode> {
        match self.task_type.as_str() {
            "upload" => Some(SyncMode::Upload),
            "download" => Some(SyncMode::Download),
            _ => None,
        }
    }

    /// True for `Success` and `Failed`.
    pub fn is_terminal(&self) -> bool {
        self.status == sync_status::SUCCESS || self.status == sync_status::FAILED
    }
}

/// GetContextInfo data: `{"contextStatus": "<json string>"}`, doubly encoded (§6.4).
///
/// On the wire `contextStatus` is a JSON string of an array of `{"type": "data", "data":
/// "<json string of status items>"}`. Decoding also accepts the already-decoded forms and
/// ignores entries whose type is not `data`; empty or absent means no items.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextInfoData {
    /// All status items.
    #[serde(
        default,
        serialize_with = "encode_context_status",
        deserialize_with = "decode_context_status"
    )]
    pub context_status: Vec<ContextStatusItem>,
}

fn encode_context_status<S: Serializer>(
    items: &[ContextStatusItem],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let inner = serde_json::to_string(items).map_err(serde::ser::Error::custom)?;
    let outer = serde_json::to_string(&[serde_json::json!({ "type": "data", "data": inner })])
        .map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&outer)
}

fn decode_context_status<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ContextStatusItem>, D::Error> {
    let envelopes = match Value::deserialize(deserializer)? {
        Value::Null => return Ok(Vec::new()),
        Value::String(text) if text.trim().is_empty() => return Ok(Vec::new()),
        Value::String(text) => serde_json::from_str::<Value>(&text).map_err(D::Error::custom)?,
        other => other,
    };
    let Value::Array(envelopes) = envelopes else {
        return Err(D::Error::custom("contextStatus must be an array"));
    };
    let mut items = Vec::new();
    for envelope in envelopes {
        if envelope.get("type").and_then(Value::as_str) != Some("data") {
            continue;
        }
        let data = envelope.get("data").cloned().unwrap_or(Value::Null);
        if data.is_null() || data.as_str().is_some_and(|text| text.trim().is_empty()) {
            continue;
        }
        let batch: Vec<ContextStatusItem> =
            json_string::from_value(data).map_err(D::Error::custom)?;
        items.extend(batch);
    }
    Ok(items)
}

/// Params of the presigned-URL and file endpoints: `?contextId=&filePath=`, body `{}`.
macro_rules! context_file_params {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Context id.
            pub context_id: String,
            /// Absolute sandbox path the file is keyed by.
            pub file_path: String,
        }
    )*};
}

context_file_params! {
    /// `POST /sdk/GetContextFileUploadUrl`; data [`FileUrlData`].
    GetContextFileUploadUrlParams;
    /// `POST /sdk/GetContextFileDownloadUrl`; data [`FileUrlData`].
    GetContextFileDownloadUrlParams;
    /// `POST /sdk/DeleteContextFile`.
    DeleteContextFileParams;
}

/// A presigned URL: `{url, expireTime}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUrlData {
    /// Absolute `http(s)` URL usable without headers.
    pub url: String,
    /// Expiry, epoch seconds (a numeric string is accepted).
    #[serde(
        default,
        deserialize_with = "lenient_opt::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub expire_time: Option<i64>,
}

/// `POST /sdk/DescribeContextFiles?contextId[&parentFolderPath]&pageNumber&pageSize`, body `{}`.
///
/// Data: an array of [`ContextFileEntry`]; `count` at the envelope's top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeContextFilesParams {
    /// Context id.
    pub context_id: String,
    /// Directory filter (Python omits it when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_folder_path: Option<String>,
    /// 1-based page (default 1).
    #[serde(deserialize_with = "lenient::deserialize")]
    pub page_number: u32,
    /// Page size (default 50).
    #[serde(deserialize_with = "lenient::deserialize")]
    pub page_size: u32,
}

/// One file stored in a context.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextFileEntry {
    /// File id.
    #[serde(default)]
    pub file_id: String,
    /// Base name.
    #[serde(default)]
    pub file_name: String,
    /// Absolute sandbox path.
    #[serde(default)]
    pub file_path: String,
    /// `file` or `directory`.
    #[serde(default)]
    pub file_type: String,
    /// Creation time.
    #[serde(default)]
    pub gmt_create: String,
    /// Modification time.
    #[serde(default)]
    pub gmt_modified: String,
    /// Size in bytes (0 when absent or `null`).
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub size: u64,
    /// Storage status.
    #[serde(default)]
    pub status: String,
}

/// `POST /sdk/GetAndLoadInternalContext?sessionId&contextTypes=<json array>`, body `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAndLoadInternalContextParams {
    /// The session.
    pub session_id: String,
    /// e.g. `["file_transfer"]`, a JSON string on the wire.
    #[serde(with = "json_string")]
    pub context_types: Vec<String>,
}

/// The internal context type used for file transfer.
pub const FILE_TRANSFER: &str = "file_transfer";

/// One internal context: `{contextId, contextType, contextPath}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalContext {
    /// Context id.
    #[serde(default)]
    pub context_id: String,
    /// e.g. `file_transfer`.
    #[serde(default)]
    pub context_type: String,
    /// Sandbox directory.
    #[serde(default)]
    pub context_path: String,
}

/// One mounted context of createSession: `{contextId, path, policy: "<json string>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistenceData {
    /// Context id.
    pub context_id: String,
    /// Mount path in the sandbox.
    pub path: String,
    /// The sync policy, a JSON string on the wire.
    #[serde(with = "json_string")]
    pub policy: SyncPolicy,
}

/// When uploads happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadStrategy {
    /// Upload when the session is released.
    UploadBeforeResourceRelease,
}

/// How uploads are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadMode {
    /// File by file.
    File,
    /// As an archive.
    Archive,
}

/// When downloads happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadStrategy {
    /// In the background after create.
    DownloadAsync,
}

/// Retention of context data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Lifecycle {
    #[serde(rename = "Lifecycle_1Day")]
    OneDay,
    #[serde(rename = "Lifecycle_3Days")]
    ThreeDays,
    #[serde(rename = "Lifecycle_5Days")]
    FiveDays,
    #[serde(rename = "Lifecycle_10Days")]
    TenDays,
    #[serde(rename = "Lifecycle_15Days")]
    FifteenDays,
    #[serde(rename = "Lifecycle_30Days")]
    ThirtyDays,
    #[serde(rename = "Lifecycle_90Days")]
    NinetyDays,
    #[serde(rename = "Lifecycle_180Days")]
    HundredEightyDays,
    #[serde(rename = "Lifecycle_360Days")]
    ThreeHundredSixtyDays,
    #[serde(rename = "Lifecycle_Forever")]
    Forever,
}

/// `uploadPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UploadPolicy {
    /// Upload automatically.
    pub auto_upload: bool,
    /// When.
    pub upload_strategy: UploadStrategy,
    /// Packing.
    pub upload_mode: UploadMode,
}

/// `downloadPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DownloadPolicy {
    /// Download automatically at create.
    pub auto_download: bool,
    /// When.
    pub download_strategy: DownloadStrategy,
}

/// `deletePolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeletePolicy {
    /// Propagate local deletions.
    pub sync_local_file: bool,
}

/// `extractPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExtractPolicy {
    /// Extract archives.
    pub extract: bool,
    /// Delete the archive after extraction.
    pub delete_src_file: bool,
    /// Extract next to the archive.
    pub extract_to_current_folder: bool,
}

/// `recyclePolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecyclePolicy {
    /// Retention.
    pub lifecycle: Lifecycle,
    /// Paths relative to the mount; `""` means everything.
    pub paths: Vec<String>,
}

/// One whitelist entry (paths relative to the mount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhiteList {
    /// Included path.
    pub path: String,
    /// Excluded paths below it.
    #[serde(default)]
    pub exclude_paths: Vec<String>,
}

/// `bwList`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BwList {
    /// Whitelist; empty means everything.
    #[serde(default)]
    pub white_lists: Vec<WhiteList>,
}

/// `mappingPolicy`: re-root files stored under an old absolute path at this mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingPolicy {
    /// The original absolute path.
    pub path: String,
}

/// The policy JSON of a mounted context (§6.3). Encoding writes every key but an absent
/// `mappingPolicy`; decoding fills missing keys with the Python SDK's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncPolicy {
    /// Upload policy.
    pub upload_policy: UploadPolicy,
    /// Download policy.
    pub download_policy: DownloadPolicy,
    /// Delete policy.
    pub delete_policy: DeletePolicy,
    /// Extract policy.
    pub extract_policy: ExtractPolicy,
    /// Recycle policy.
    pub recycle_policy: RecyclePolicy,
    /// Black/white list.
    pub bw_list: BwList,
    /// Optional path mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_policy: Option<MappingPolicy>,
}

impl Default for UploadPolicy {
    fn default() -> Self {
        Self {
            auto_upload: true,
            upload_strategy: UploadStrategy::UploadBeforeResourceRelease,
            upload_mode: UploadMode::File,
        }
    }
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        Self {
            auto_download: true,
            download_strategy: DownloadStrategy::DownloadAsync,
        }
    }
}

impl Default for DeletePolicy {
    fn default() -> Self {
        Self {
            sync_local_file: true,
        }
    }
}

impl Default for ExtractPolicy {
    fn default() -> Self {
        Self {
            extract: true,
            delete_src_file: true,
            extract_to_current_folder: false,
        }
    }
}

impl Default for RecyclePolicy {
    fn default() -> Self {
        Self {
            lifecycle: Lifecycle::Forever,
            paths: vec![String::new()],
        }
    }
}

impl Default for SyncPolicy {
    /// The Python SDK's `SyncPolicy()`.
    fn default() -> Self {
        Self {
            upload_policy: UploadPolicy::default(),
            download_policy: DownloadPolicy::default(),
            delete_policy: DeletePolicy::default(),
            extract_policy: ExtractPolicy::default(),
            recycle_policy: RecyclePolicy::default(),
            bw_list: BwList::default(),
            mapping_policy: None,
        }
    }
}

/// A sync policy the official SDKs refuse before sending (wildcards in paths).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A recycle-policy path contains `*`, `?`, `[` or `]`.
    #[error(
        "Wildcard patterns are not supported in recycle policy paths. Got: {0}. Please use exact directory paths instead."
    )]
    WildcardInRecyclePath(String),
    /// A whitelist path contains a wildcard.
    #[error(
        "Wildcard patterns are not supported in path. Got: {0}. Please use exact directory paths instead."
    )]
    WildcardInWhiteListPath(String),
    /// A whitelist exclude path contains a wildcard.
    #[error(
        "Wildcard patterns are not supported in exclude_paths. Got: {0}. Please use exact directory paths instead."
    )]
    WildcardInExcludePath(String),
}

fn has_wildcard(path: &str) -> bool {
    path.contains(['*', '?', '[', ']'])
}

impl SyncPolicy {
    /// The SDK's client-side checks, with its messages: no wildcards in recycle paths (blank
    /// paths allowed), whitelist paths or exclude paths.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(path) = self
            .recycle_policy
            .paths
            .iter()
            .find(|p| !p.trim().is_empty() && has_wildcard(p))
        {
            return Err(PolicyError::WildcardInRecyclePath(path.clone()));
        }
        for white_list in &self.bw_list.white_lists {
            if has_wildcard(&white_list.path) {
                return Err(PolicyError::WildcardInWhiteListPath(
                    white_list.path.clone(),
                ));
            }
            if let Some(path) = white_list.exclude_paths.iter().find(|p| has_wildcard(p)) {
                return Err(PolicyError::WildcardInExcludePath(path.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_refused_with_the_sdk_messages() {
        assert_eq!(SyncPolicy::default().validate(), Ok(()));
        let mut policy = SyncPolicy::default();
        policy.recycle_policy.paths = vec![String::new(), "logs/*.txt".into()];
        let err = policy.validate().unwrap_err();
        assert!(err.to_string().starts_with(
            "Wildcard patterns are not supported in recycle policy paths. Got: logs/*.txt."
        ));
        let mut policy = SyncPolicy::default();
        policy.bw_list.white_lists = vec![WhiteList {
            path: "/src".into(),
            exclude_paths: vec!["/a?".into()],
        }];
        assert_eq!(
            policy.validate(),
            Err(PolicyError::WildcardInExcludePath("/a?".into()))
        );
        policy.bw_list.white_lists[0].path = "/s[r]c".into();
        assert_eq!(
            policy.validate(),
            Err(PolicyError::WildcardInWhiteListPath("/s[r]c".into()))
        );
    }
}
