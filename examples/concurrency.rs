//! Fifty concurrent runs on one cloned client: one session per task, created, used, deleted.
//!
//! `cargo run --release --example concurrency`

use std::time::Instant;

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|task| {
            let agb = agb.clone();
            tokio::spawn(async move {
                agb.with_session(CreateParams::default(), |session| async move {
                    let run = session
                        .code()
                        .run(
                            format!("import json\nprint(json.dumps([{task}, {task} ** 2]))"),
                            Language::Python,
                        )
                        .await?;
                    Ok(run.stdout())
                })
                .await
            })
        })
        .collect();
    let mut squares = 0;
    for task in tasks {
        let stdout = task.await??;
        if stdout.trim_start().starts_with('[') {
            squares += 1;
        }
    }
    println!(
        "{squares}/50 runs answered in {:.0} ms on one client",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(squares, 50);
    assert!(
        agb.list_all(ListFilter::all()).await?.is_empty(),
        "every session deleted"
    );
    Ok(())
}
