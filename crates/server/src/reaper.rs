//! The idle reaper: every `reap_interval`, releases sessions idle for longer than their
//! timeout (§8.5). It holds the state weakly, so it never keeps a server alive.

use std::sync::Weak;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::app::App;

/// Starts the reaper on the current tokio runtime.
pub fn spawn(app: Weak<App>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(app) = app.upgrade() else { return };
            if app.is_closing() {
                return;
            }
            app.reap();
        }
    })
}
