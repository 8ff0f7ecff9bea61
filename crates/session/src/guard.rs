//! `SessionGuard`: a session that cannot be forgotten.

use std::ops::Deref;

use crate::error::Result;
use crate::session::Session;

/// Owns a session and deletes it when dropped.
///
/// Call [`close`](Self::close) to delete it and see the outcome. If the guard is dropped
/// instead, because of an early return, a `?` or a panic in the task holding it, the deletion
/// is spawned on the current tokio runtime (or, outside any runtime, run on a short-lived
/// thread of its own) and its failure is logged.
///
/// ```no_run
/// # async fn demo(agb: agbcloud_session::Agb) -> agbcloud_session::Result<()> {
/// use agbcloud_session::{CreateParams, Language};
///
/// let session = agb.create_guarded(CreateParams::default()).await?;
/// session.code().run("print('hi')", Language::Python).await?;
/// session.close().await?; // or let it drop
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping a SessionGuard deletes its session at once"]
pub struct SessionGuard {
    session: Option<Session>,
}

impl SessionGuard {
    /// Takes ownership of `session`'s lifetime.
    pub fn new(session: Session) -> Self {
        Self {
            session: Some(session),
        }
    }

    /// The guarded session.
    pub fn session(&self) -> &Session {
        match &self.session {
            Some(session) => session,
            None => unreachable!("a SessionGuard holds its session until close or drop"),
        }
    }

    /// Deletes the session now and waits until it is gone.
    pub async fn close(mut self) -> Result<()> {
        match self.session.take() {
            Some(session) => session.delete().await,
            None => Ok(()),
        }
    }

    /// Gives the session back without deleting it.
    pub fn into_inner(mut self) -> Session {
        match self.session.take() {
            Some(session) => session,
            None => unreachable!("a SessionGuard holds its session until close or drop"),
        }
    }
}

impl Deref for SessionGuard {
    type Target = Session;

    fn deref(&self) -> &Session {
        self.session()
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            delete_in_background(session);
        }
    }
}

/// Deletes `session` without waiting: on the current runtime, or on a thread of its own.
pub(crate) fn delete_in_background(session: Session) {
    let id = session.id().to_owned();
    tracing::debug!(session_id = %id, "deleting session in the background");
    let task = async move {
        if let Err(error) = session.delete().await {
            tracing::warn!(session_id = %session.id(), %error, "background session deletion failed");
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(task);
        }
        Err(_) => {
            let spawned = std::thread::Builder::new()
                .name("agb-session-cleanup".to_owned())
                .spawn(move || {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => runtime.block_on(task),
                        Err(error) => tracing::warn!(%error, "no runtime for session cleanup"),
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(session_id = %id, %error, "could not start session cleanup");
            }
        }
    }
}
