//! The warm pool hands out ready sandboxes and refills in the background.

mod common;

use std::time::Duration;

use agbcloud_sandbox::{Image, Limits, Pool};
use common::{engine, sh};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_hands_out_distinct_ready_sandboxes_and_refills() {
    let engine = engine();
    let pool = Pool::new(engine.clone(), Image::standard(), Limits::default(), 2);
    pool.wait_full().await;
    assert_eq!(pool.stats().idle, 2);
    let a = pool.acquire().await.unwrap();
    let b = pool.acquire().await.unwrap();
    let c = pool.acquire().await.unwrap(); // the pool is empty: created on the spot
    assert!(a.id() != b.id() && b.id() != c.id());
    assert_eq!(sh(&a, "echo a").await.stdout_str(), "a\n");
    pool.wait_full().await;
    assert_eq!(pool.stats().idle, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmup_runs_before_pooling_and_lifetime_starts_at_acquire() {
    let engine = engine();
    let limits = Limits {
        lifetime: Some(Duration::from_secs(1)),
        ..Limits::default()
    };
    let pool = Pool::with_warmup(
        engine.clone(),
        Image::standard(),
        limits,
        1,
        |sb| async move {
            sb.files()?.write("/tmp/warm", b"yes")?;
            Ok(sb.id().to_owned())
        },
    );
    pool.wait_full().await;
    // Idle time in the pool does not count against the lifetime.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (sb, id) = pool.acquire_warm().await.unwrap();
    assert_eq!(id, sb.id());
    assert_eq!(sh(&sb, "cat /tmp/warm").await.stdout_str(), "yes");
    let init = sb.init_pid();
    assert!(
        common::eventually(|| !common::alive(init)).await,
        "lifetime not enforced after acquire"
    );
}
