//! Eight tasks share a pool of two sessions: sessions are reused, none is leaked.
//!
//! `cargo run --release --example session_pool`

use std::time::Duration;

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;
    let pool = SessionPool::new(
        agb.clone(),
        CreateParams::default(),
        PoolConfig::default()
            .max_size(2)
            .acquire_timeout(Duration::from_secs(60)),
    );

    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let session = pool.acquire().await?;
                let run = session
                    .code()
                    .run(format!("print('Hello from task {task}')"), Language::Python)
                    .await?;
                Ok::<_, Error>((task, session.id().to_owned(), run.stdout()))
            })
        })
        .collect();
    for task in tasks {
        let (task, session_id, stdout) = task.await??;
        println!("task {task} on {session_id}: {}", stdout.trim_end());
    }

    let metrics = pool.metrics();
    println!(
        "created {} sessions for 8 tasks (hits {}, misses {}, waits {}, peak {})",
        metrics.created, metrics.hits, metrics.misses, metrics.waits, metrics.peak_size
    );
    assert!(
        metrics.peak_size <= 2,
        "the pool never holds more than 2 sessions"
    );

    pool.drain().await;
    let left = agb.list_all(ListFilter::all()).await?;
    println!("sessions left after drain: {}", left.len());
    assert!(left.is_empty(), "no session leaked");
    Ok(())
}
