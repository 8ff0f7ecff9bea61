//! Parameters of session creation.

use std::time::Duration;

use agbcloud_wire::context::{PersistenceData, SyncPolicy};
use agbcloud_wire::session::{CreateSessionParams, Labels};

use crate::error::{Error, Result};

/// The image used when none is given: a generic code sandbox.
pub const DEFAULT_IMAGE: &str = "agb-code-space-1";

/// A context mounted into a new session at `path`, synchronised by `policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextMount {
    /// The context id.
    pub context_id: String,
    /// Absolute mount path in the sandbox.
    pub path: String,
    /// The sync policy (default: download on create, upload before release).
    pub policy: SyncPolicy,
}

impl ContextMount {
    /// Mounts `context_id` at `path` with the default policy.
    pub fn new(context_id: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            context_id: context_id.into(),
            path: path.into(),
            policy: SyncPolicy::default(),
        }
    }
}

/// What session to create: image, labels, idle release timeout, policy id, context mounts.
///
/// ```
/// use std::time::Duration;
/// use agbcloud_session::CreateParams;
///
/// let params = CreateParams::new("agb-code-space-1")
///     .label("team", "ml")
///     .idle_release_timeout(Duration::from_secs(300));
/// assert_eq!(params.image_id(), "agb-code-space-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateParams {
    image_id: String,
    labels: Labels,
    idle_release_timeout: Option<Duration>,
    policy_id: Option<String>,
    mounts: Vec<ContextMount>,
}

impl Default for CreateParams {
    /// The [`DEFAULT_IMAGE`], nothing else.
    fn default() -> Self {
        Self::new(DEFAULT_IMAGE)
    }
}

impl CreateParams {
    /// A session of `image_id`.
    pub fn new(image_id: impl Into<String>) -> Self {
        Self {
            image_id: image_id.into(),
            labels: Labels::new(),
            idle_release_timeout: None,
            policy_id: None,
            mounts: Vec::new(),
        }
    }

    /// The image id.
    pub fn image_id(&self) -> &str {
        &self.image_id
    }

    /// Adds a label.
    #[must_use]
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Replaces the labels.
    #[must_use]
    pub fn labels(mut self, labels: Labels) -> Self {
        self.labels = labels;
        self
    }

    /// Releases the session after this much inactivity (whole seconds on the wire).
    #[must_use]
    pub fn idle_release_timeout(mut self, timeout: Duration) -> Self {
        self.idle_release_timeout = Some(timeout);
        self
    }

    /// The MCP policy id.
    #[must_use]
    pub fn policy_id(mut self, policy_id: impl Into<String>) -> Self {
        self.policy_id = Some(policy_id.into());
        self
    }

    /// Mounts a context.
    #[must_use]
    pub fn mount(mut self, mount: ContextMount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// The wire params, validated as the official SDK does before sending.
    pub(crate) fn into_wire(self) -> Result<CreateSessionParams> {
        if self.image_id.trim().is_empty() {
            return Err(Error::invalid(
                "image_id is required and cannot be empty or None",
            ));
        }
        validate_labels(&self.labels, true)?;
        let mut wire = CreateSessionParams::new(self.image_id);
        wire.labels = (!self.labels.is_empty()).then_some(self.labels);
        wire.mcp_policy_id = self.policy_id;
        wire.timeout = self
            .idle_release_timeout
            .map(|timeout| timeout.as_secs())
            .filter(|secs| *secs > 0);
        wire.persistence_data_list = self
            .mounts
            .into_iter()
            .map(|mount| PersistenceData {
                context_id: mount.context_id,
                path: mount.path,
                policy: mount.policy,
            })
            .collect();
        Ok(wire)
    }
}

/// Label rules of the official SDKs: keys and values non-blank; an empty set is refused
/// unless `allow_empty`.
pub(crate) fn validate_labels(labels: &Labels, allow_empty: bool) -> Result<()> {
    if labels.is_empty() && !allow_empty {
        return Err(Error::invalid(
            "Labels cannot be empty. Please provide at least one label.",
        ));
    }
    for (key, value) in labels {
        if key.trim().is_empty() {
            return Err(Error::invalid(
                "Label keys cannot be empty. Please provide valid keys.",
            ));
        }
        if value.trim().is_empty() {
            return Err(Error::invalid(format!(
                "Label value for key '{key}' cannot be empty. Please provide a valid value."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_wire_and_validates() {
        let wire = CreateParams::new("img")
            .label("a", "b")
            .idle_release_timeout(Duration::from_secs(90))
            .policy_id("p")
            .into_wire()
            .expect("valid");
        assert_eq!(wire.timeout, Some(90));
        assert_eq!(wire.mcp_policy_id.as_deref(), Some("p"));
        assert_eq!(wire.labels.map(|l| l.len()), Some(1));
        assert!(CreateParams::new(" ").into_wire().is_err());
        assert!(CreateParams::new("i").label("k", " ").into_wire().is_err());
    }
}
