//! The real embedded engine behind a client whose requests are counted at the `HttpSend` seam.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agbcloud::prelude::*;
use agbcloud::server::{Embedded, ServerConfig};
use agbcloud::transport::{HttpSend, SendFuture, SharedHttpSend};
use bytes::Bytes;

/// Forwards to the embedded engine and counts requests.
#[derive(Debug, Clone)]
pub(crate) struct Counting {
    engine: Embedded,
    inner: SharedHttpSend,
    requests: Arc<AtomicUsize>,
}

impl Counting {
    pub(crate) fn start() -> Self {
        let engine = Embedded::start(ServerConfig::embedded()).expect("embedded engine starts");
        Self {
            inner: engine.http_send(),
            engine,
            requests: Arc::default(),
        }
    }

    pub(crate) fn client(&self) -> Agb {
        Agb::builder()
            .use_environment(false)
            .endpoint(self.engine.base_url())
            .http_send(SharedHttpSend::new(self.clone()))
            .build()
            .expect("client")
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl HttpSend for Counting {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request)
    }
}

/// Deterministic pseudo-random bytes (xorshift), incompressible and not UTF-8.
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

pub(crate) fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}
