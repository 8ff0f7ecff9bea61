//! `Session`: a handle on one session and its non-tool calls (status, info, labels,
//! keep-alive, metrics, delete), and the doors to its tools.

use std::fmt;
use std::sync::Arc;

use agbcloud_wire::session::{
    GetLabelParams, GetMcpResourceParams, GetSessionInfoParams, Labels, McpResourceData,
    RefreshSessionIdleTimeParams, SessionData, SetLabelParams,
};
use agbcloud_wire::tools::NoArgs;
use agbcloud_wire::tools::metrics::Metrics;

use crate::client::Agb;
use crate::code::Code;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::params::validate_labels;

/// A session: cheap to clone, `Send + Sync`. Dropping it does **not** delete the session;
/// use [`SessionGuard`](crate::SessionGuard) or [`Agb::with_session`] for that.
#[derive(Clone)]
pub struct Session {
    agb: Agb,
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    image_id: Option<String>,
    data: SessionData,
    request_id: Option<String>,
    ws: crate::stream::WsHub,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .field("image_id", &self.inner.image_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(agb: Agb, id: String, image_id: Option<String>, data: SessionData) -> Self {
        Self::with_request_id(agb, id, image_id, data, None)
    }

    pub(crate) fn with_request_id(
        agb: Agb,
        id: String,
        image_id: Option<String>,
        data: SessionData,
        request_id: Option<String>,
    ) -> Self {
        Self {
            agb,
            inner: Arc::new(Inner {
                id,
                image_id,
                data,
                request_id,
                ws: crate::stream::WsHub::default(),
            }),
        }
    }

    /// The session's shared stream connection.
    pub(crate) fn ws_hub(&self) -> &crate::stream::WsHub {
        &self.inner.ws
    }

    /// The request id of the call that produced this handle (create or get), if any.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The image, when this handle came from [`Agb::create`].
    pub fn image_id(&self) -> Option<&str> {
        self.inner.image_id.as_deref()
    }

    /// What the server said about the session at create or get time (resource URL, ws URL,
    /// tool list...).
    pub fn data(&self) -> &SessionData {
        &self.inner.data
    }

    /// The client this session belongs to.
    pub fn agb(&self) -> &Agb {
        &self.agb
    }

    /// Code execution in this session.
    pub fn code(&self) -> Code<'_> {
        Code::new(self)
    }

    /// Shell commands in this session.
    pub fn command(&self) -> Command<'_> {
        Command::new(self)
    }

    /// The session's file system.
    pub fn fs(&self) -> FileSystem<'_> {
        FileSystem::new(self)
    }

    /// The status (`RUNNING`, ...); [`Error::SessionNotFound`] once released. Does not count
    /// as activity for the idle timer.
    pub async fn status(&self) -> Result<String> {
        let reply = self
            .agb
            .call(&GetSessionInfoParams::new(self.id()), Some(self.id()), None)
            .await?;
        Ok(reply
            .envelope
            .data
            .map(|data| data.status)
            .unwrap_or_default())
    }

    /// Resource information (`getMcpResource`): the browser-viewable URL and desktop details.
    pub async fn info(&self) -> Result<McpResourceData> {
        let reply = self
            .agb
            .call(&GetMcpResourceParams::new(self.id()), Some(self.id()), None)
            .await?;
        reply.envelope.data.ok_or_else(|| Error::SessionNotFound {
            session_id: self.id().to_owned(),
            request_id: reply.request_id,
        })
    }

    /// The session's labels.
    pub async fn labels(&self) -> Result<Labels> {
        let params = GetLabelParams {
            session_id: self.id().to_owned(),
            max_results: None,
            next_token: None,
        };
        let reply = self.agb.call(&params, Some(self.id()), None).await?;
        Ok(reply
            .envelope
            .data
            .map(|data| data.labels)
            .unwrap_or_default())
    }

    /// Replaces the session's labels (keys and values must be non-blank, at least one).
    pub async fn set_labels(&self, labels: Labels) -> Result<()> {
        validate_labels(&labels, false)?;
        let params = SetLabelParams {
            session_id: self.id().to_owned(),
            labels,
        };
        self.agb.call(&params, Some(self.id()), None).await?;
        Ok(())
    }

    /// Restarts the session's idle timer.
    pub async fn keep_alive(&self) -> Result<()> {
        self.agb
            .call(
                &RefreshSessionIdleTimeParams::new(self.id()),
                Some(self.id()),
                None,
            )
            .await?;
        Ok(())
    }

    /// CPU, memory, disk and network figures of the sandbox.
    pub async fn metrics(&self) -> Result<Metrics> {
        let (text, request_id) = self.agb.call_tool_ok(self.id(), &NoArgs {}).await?;
        Metrics::parse(&text).map_err(|source| Error::Decode {
            what: "get_metrics".to_owned(),
            source,
            request_id,
        })
    }

    /// Releases the session and waits until it is gone (see [`Agb::delete`]).
    pub async fn delete(&self) -> Result<()> {
        self.agb.delete(self.id()).await
    }
}
