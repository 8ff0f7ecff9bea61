//! The SDK against the real embedded engine: guards, pools, the cache, the policy and the
//! tools, with requests counted at the `HttpSend` seam.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agbcloud::prelude::*;
use agbcloud::server::{Embedded, ServerConfig};
use agbcloud::transport::{HttpSend, SendFuture, SharedHttpSend};
use agbcloud::{ClientOptions, Labels, RequestSent};
use bytes::Bytes;

/// Forwards to the embedded engine and records each request's endpoint (and tool name), and
/// the most sessions the engine ever held at once.
#[derive(Debug, Clone)]
struct Counting {
    engine: Embedded,
    inner: SharedHttpSend,
    calls: Arc<Mutex<Vec<String>>>,
    peak_sessions: Arc<AtomicUsize>,
}

impl Counting {
    fn start() -> Self {
        let engine = Embedded::start(ServerConfig::embedded()).expect("embedded engine starts");
        Self {
            inner: engine.http_send(),
            engine,
            calls: Arc::default(),
            peak_sessions: Arc::default(),
        }
    }

    fn client(&self, options: ClientOptions) -> Agb {
        Agb::builder()
            .use_environment(false)
            .endpoint(self.engine.base_url())
            .http_send(SharedHttpSend::new(self.clone()))
            .options(options)
            .build()
            .expect("client")
    }

    fn count(&self, call: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.as_str() == call)
            .count()
    }
}

impl HttpSend for Counting {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        let mut call = request.uri().path().to_owned();
        if call == "/mcp" {
            let body: serde_json::Value =
                serde_json::from_slice(request.body()).unwrap_or_default();
            call = format!("tool:{}", body["name"].as_str().unwrap_or_default());
        }
        self.calls.lock().unwrap().push(call);
        Box::pin(async move {
            let response = self.inner.send(request).await;
            self.peak_sessions
                .fetch_max(self.engine.session_count(), Ordering::SeqCst);
            response
        })
    }
}

async fn wait_until_gone(agb: &Agb, id: &str) {
    for _ in 0..500 {
        match agb.session(id).status().await {
            Err(error) if error.is_session_not_found() => return,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("session {id} was not deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_dropped_in_a_panicking_task_deletes_its_session() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let (id_tx, id_rx) = tokio::sync::oneshot::channel();
    let task_agb = agb.clone();
    let task = tokio::spawn(async move {
        let guard = task_agb
            .create_guarded(CreateParams::default())
            .await
            .expect("created");
        id_tx.send(guard.id().to_owned()).expect("id sent");
        panic!("the task fails while holding the guard");
    });
    let id = id_rx.await.expect("id");
    assert!(task.await.expect_err("the task panicked").is_panic());
    wait_until_gone(&agb, &id).await;
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_session_deletes_on_success_and_on_error() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let value = agb
        .with_session(CreateParams::default(), |s| async move {
            s.code().run("21 * 2", Language::Python).await
        })
        .await
        .expect("ran");
    assert_eq!(value.text(), "42");
    let failed: Result<(), Error> = agb
        .with_session(CreateParams::default(), |s| async move {
            s.fs().read_text("/no/such/file").await.map(drop)
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(server.engine.session_count(), 0);
    assert_eq!(server.count("/mcp/createSession"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_4_under_100_acquirers_never_exceeds_4_and_leaks_none() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let pool = SessionPool::new(
        agb.clone(),
        CreateParams::default(),
        PoolConfig::default()
            .max_size(4)
            .acquire_timeout(Duration::from_secs(120)),
    );
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let session = pool.acquire().await.expect("acquired");
                let out = session
                    .command()
                    .exec(format!("echo {i}"))
                    .await
                    .expect("ran");
                assert_eq!(out.stdout.trim(), i.to_string());
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let metrics = pool.metrics();
    assert!(metrics.peak_size <= 4, "{metrics:?}");
    assert!(server.peak_sessions.load(Ordering::SeqCst) <= 4);
    assert_eq!(metrics.hits + metrics.misses, 100, "{metrics:?}");
    assert!(metrics.created <= 4 && metrics.hits >= 96, "{metrics:?}");
    pool.drain().await;
    assert_eq!(pool.metrics().size, 0);
    assert_eq!(server.engine.session_count(), 0, "no session leaked");
    assert!(
        agb.list_all(ListFilter::all())
            .await
            .expect("listed")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_pooled_session_is_replaced_not_handed_out() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let pool = SessionPool::new(agb.clone(), CreateParams::default(), PoolConfig::default());
    let first_id = {
        let session = pool.acquire().await.expect("acquired");
        session.id().to_owned()
    };
    agb.delete(&first_id)
        .await
        .expect("deleted behind the pool's back");
    let second = pool.acquire().await.expect("acquired");
    assert_ne!(second.id(), first_id);
    assert!(second.status().await.is_ok());
    drop(second);
    pool.drain().await;
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_serves_the_second_call_without_a_request() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let session = agb
        .create_guarded(CreateParams::default())
        .await
        .expect("created");
    let cache = ResultCache::default();
    let code = "import hashlib\nhashlib.sha256(b'agb').hexdigest()";
    let first = session
        .code()
        .run(code, "python")
        .cache(&cache)
        .await
        .expect("ran");
    let runs_after_first = server.count("tool:run_code");
    let second = session
        .code()
        .run(code, "python")
        .cache(&cache)
        .await
        .expect("ran");
    assert_eq!(
        server.count("tool:run_code"),
        runs_after_first,
        "no request for the hit"
    );
    assert!(second.from_cache && !first.from_cache);
    assert_eq!(first.text(), second.text());
    let failing = session
        .code()
        .run("1/0", "python")
        .cache(&cache)
        .await
        .expect("data");
    assert!(!failing.success);
    session
        .code()
        .run("1/0", "python")
        .cache(&cache)
        .await
        .expect("data");
    assert_eq!(
        server.count("tool:run_code"),
        runs_after_first + 2,
        "failures are not cached"
    );
    session.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_refuses_before_sending_and_lets_safe_code_run() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default().code_policy(CodePolicy::recommended()));
    let session = agb
        .create_guarded(CreateParams::default())
        .await
        .expect("created");
    for snippet in [
        "__import__('os').system('id')",
        "from os import system",
        "getattr(__builtins__, 'ev' + 'al')('1')",
    ] {
        let error = session.code().run(snippet, "python").await.unwrap_err();
        assert!(matches!(error, Error::PolicyViolation(_)), "{error}");
        assert_eq!(error.request_sent(), RequestSent::No);
    }
    assert_eq!(server.count("tool:run_code"), 0);
    let safe = session
        .code()
        .run("sum(range(5))", "python")
        .await
        .expect("ran");
    assert_eq!(safe.text(), "10");
    session.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_commands_code_and_files_work_end_to_end() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let session = agb
        .create_guarded(CreateParams::default().label("suite", "e2e"))
        .await
        .expect("created");

    // Lifecycle calls.
    let listed = agb
        .list_all(ListFilter::all().label("suite", "e2e"))
        .await
        .expect("listed");
    assert_eq!(listed.len(), 1);
    let mut labels = Labels::new();
    labels.insert("suite".into(), "e2e-2".into());
    session
        .set_labels(labels.clone())
        .await
        .expect("labels set");
    assert_eq!(session.labels().await.expect("labels"), labels);
    session.keep_alive().await.expect("kept alive");
    assert!(
        session
            .info()
            .await
            .expect("info")
            .resource_url
            .contains("resourceId=")
    );
    assert!(
        session
            .metrics()
            .await
            .expect("metrics")
            .cpu_count
            .unwrap_or(0)
            >= 1
    );
    assert_eq!(agb.get(session.id()).await.expect("got").id(), session.id());

    // Commands: exit codes are data; cwd and env apply to one call.
    let out = session
        .command()
        .exec("pwd; echo $GREETING; exit 3")
        .cwd("/tmp")
        .env("GREETING", "hello")
        .await
        .expect("ran");
    assert_eq!(
        (out.exit_code, out.stdout.as_str()),
        (Some(3), "/tmp\nhello\n")
    );

    // Code: state persists, exceptions are data, JavaScript runs.
    session.code().run("x = 20", "py").await.expect("ran");
    assert_eq!(
        session
            .code()
            .run("x + 22", "python3")
            .await
            .expect("ran")
            .text(),
        "42"
    );
    let failed = session
        .code()
        .run("undefined_name", "python")
        .await
        .expect("data");
    assert!(!failed.success && failed.error_message.contains("NameError"));
    let js = session
        .code()
        .run("[1, 2, 3].map(x => x * 2).join(',')", "js")
        .await;
    if let Ok(js) = js.as_ref().map(|run| run.text()) {
        assert!(js.contains("2,4,6"), "{js}");
    }

    // Files: text over 100 KB with multi-byte characters, bytes, and the other tools.
    let fs = session.fs();
    let text: String = "héllo wörld ✓ ".repeat(9_000);
    fs.write_text("/tmp/work/big.txt", &text)
        .await
        .expect("written");
    assert_eq!(fs.read_text("/tmp/work/big.txt").await.expect("read"), text);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    fs.write_bytes("/tmp/work/blob.bin", &bytes)
        .await
        .expect("written");
    assert_eq!(
        fs.read_bytes("/tmp/work/blob.bin").await.expect("read"),
        bytes
    );
    fs.mkdir("/tmp/work/sub").await.expect("mkdir");
    fs.write_text("/tmp/work/sub/a.txt", "alpha")
        .await
        .expect("written");
    assert_eq!(fs.stat("/tmp/work/sub/a.txt").await.expect("stat").size, 5);
    let names: Vec<String> = fs
        .list("/tmp/work")
        .await
        .expect("listed")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        names.contains(&"sub".to_owned()) && names.contains(&"big.txt".to_owned()),
        "{names:?}"
    );
    let found = fs
        .search("/tmp/work", "*.txt", &[])
        .await
        .expect("searched");
    assert!(found.iter().any(|p| p.ends_with("/a.txt")), "{found:?}");
    fs.edit("/tmp/work/sub/a.txt", &[("alpha", "beta")], false)
        .await
        .expect("edited");
    fs.rename("/tmp/work/sub/a.txt", "/tmp/work/sub/b.txt")
        .await
        .expect("moved");
    let many = fs
        .read_many(["/tmp/work/sub/b.txt"])
        .await
        .expect("read many");
    assert_eq!(
        many,
        [("/tmp/work/sub/b.txt".to_owned(), "beta".to_owned())]
    );
    fs.remove("/tmp/work/sub/b.txt").await.expect("removed");
    assert!(!fs.exists("/tmp/work/sub/b.txt").await.expect("checked"));

    let id = session.id().to_owned();
    session.close().await.expect("closed");
    let gone = agb.session(&id).command().exec("true").await.unwrap_err();
    assert!(gone.is_session_not_found(), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_a_directory_streams_its_changes() {
    use futures_util::StreamExt;

    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let session = agb
        .create_guarded(CreateParams::default())
        .await
        .expect("created");
    session.fs().mkdir("/tmp/watched").await.expect("mkdir");
    let mut changes = std::pin::pin!(
        session
            .fs()
            .watch("/tmp/watched", Duration::from_millis(50))
    );
    // The first poll sets the baseline; keep writing new files until one is reported.
    let writer = session.clone();
    let write = tokio::spawn(async move {
        for i in 0..200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer
                .fs()
                .write_text(format!("/tmp/watched/f{i}.txt"), "one")
                .await
                .expect("written");
        }
    });
    let event = tokio::time::timeout(Duration::from_secs(20), changes.next())
        .await
        .expect("a change within 20 s")
        .expect("the stream goes on")
        .expect("no error");
    write.abort();
    assert!(event.path.starts_with("/tmp/watched/f"), "{event:?}");
    session.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_prewarms_min_idle_and_expires_idle_sessions() {
    let server = Counting::start();
    let agb = server.client(ClientOptions::default());
    let pool = SessionPool::new(
        agb.clone(),
        CreateParams::default(),
        PoolConfig::default().min_idle(2).max_size(3),
    );
    for _ in 0..400 {
        if pool.metrics().idle == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.metrics().idle, 2, "prewarmed in the background");
    let session = pool.acquire().await.expect("acquired");
    let metrics = pool.metrics();
    assert_eq!((metrics.hits, metrics.misses), (1, 0), "{metrics:?}");
    drop(session);
    pool.drain().await;
    assert_eq!(server.engine.session_count(), 0);

    let short = SessionPool::new(
        agb,
        CreateParams::default(),
        PoolConfig::default().idle_timeout(Duration::from_millis(50)),
    );
    let first = short.acquire().await.expect("acquired").id().to_owned();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = short.acquire().await.expect("acquired");
    assert_ne!(
        second.id(),
        first,
        "an expired idle session is not handed out"
    );
    drop(second);
    short.drain().await;
    assert!(short.metrics().destroyed >= 2);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_sessions_stream_live_in_process() {
    use std::time::Instant;

    let agb = Agb::builder()
        .use_environment(false)
        .embedded()
        .build()
        .expect("client");
    let session = agb
        .create_guarded(CreateParams::default())
        .await
        .expect("created");
    let chunks: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sink = chunks.clone();
    let run = session
        .code()
        .run(
            "import time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second')\n'done'",
            "python",
        )
        .on_stdout(move |chunk| {
            sink.lock()
                .unwrap()
                .push((Instant::now(), chunk.to_owned()))
        })
        .await
        .expect("ran");
    assert!(run.success, "{}", run.error_message);
    assert_eq!(run.text(), "'done'");
    let chunks = chunks.lock().unwrap().clone();
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert!(
        chunks[1].0.duration_since(chunks[0].0) >= Duration::from_millis(400),
        "chunks were delivered as they were printed"
    );
    session.close().await.expect("closed");
}
