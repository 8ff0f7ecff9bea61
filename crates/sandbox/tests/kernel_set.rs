//! KernelSet behaviour across languages: concurrency, abandoned cells, shutdown.

mod common;

use std::time::{Duration, Instant};

use agbcloud_sandbox::kernel::Language;

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_run_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    k.start(Language::Python).await.unwrap();
    k.start(Language::JavaScript).await.unwrap();
    let started = Instant::now();
    let (py, js) = tokio::join!(
        k.execute("python", "import time\ntime.sleep(0.4)\n'py'", T, None),
        k.execute(
            "javascript",
            "await new Promise(r => setTimeout(r, 400)); 'js'",
            T,
            None
        ),
    );
    assert_eq!(py.unwrap().main_text(), Some("'py'"));
    assert_eq!(js.unwrap().main_text(), Some("'js'"));
    assert!(
        started.elapsed() < Duration::from_millis(790),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(k.running(), [Language::Python, Language::JavaScript]);
    k.shutdown();
    assert!(k.running().is_empty());
}

#[tokio::test]
async fn abandoned_cell_is_interrupted_and_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    k.execute("python", "kept = 1", T, None).await.unwrap();
    // the caller gives up on a long cell (e.g. its client disconnected)
    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        k.execute(
            "python",
            "import time\nprint('late')\ntime.sleep(30)",
            T,
            None,
        ),
    )
    .await;
    assert!(abandoned.is_err());
    let started = Instant::now();
    let run = k.execute("python", "kept + 1", T, None).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.main_text(), Some("2"), "{run:?}");
    assert!(
        run.stdout.is_empty(),
        "the abandoned cell's output leaked: {:?}",
        run.stdout
    );
}

#[tokio::test]
async fn huge_timeouts_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = k.execute("py", "1", Duration::MAX, None).await.unwrap();
    assert_eq!(run.main_text(), Some("1"));
}

#[tokio::test]
async fn execution_counts_are_per_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    for i in 1..=3 {
        assert_eq!(
            k.execute("py", "1", T, None).await.unwrap().execution_count,
            i
        );
    }
    assert_eq!(
        k.execute("js", "1", T, None).await.unwrap().execution_count,
        1
    );
}
