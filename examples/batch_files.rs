//! One hundred files written and read back in parallel, then compared.
//!
//! `cargo run --release --example batch_files`

use std::time::Instant;

use agbcloud::prelude::*;
use futures_util::{StreamExt, TryStreamExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;
    let session = agb.create_guarded(CreateParams::default()).await?;
    let files: Vec<(String, String)> = (0..100)
        .map(|i| {
            (
                format!("/tmp/batch/file-{i:03}.txt"),
                format!("file {i}: {}\n", "ü".repeat(i * 10)),
            )
        })
        .collect();

    let started = Instant::now();
    futures_util::stream::iter(&files)
        .map(|(path, content)| session.fs().write_text(path.as_str(), content))
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    let written = started.elapsed();

    let started = Instant::now();
    let read: Vec<String> = futures_util::stream::iter(&files)
        .map(|(path, _)| session.fs().read_text(path.as_str()))
        .buffered(16)
        .try_collect()
        .await?;
    let read_time = started.elapsed();

    let same = files
        .iter()
        .zip(&read)
        .filter(|((_, expected), got)| expected == *got)
        .count();
    println!(
        "wrote 100 files in {:.1} ms, read them back in {:.1} ms; {same}/100 identical",
        written.as_secs_f64() * 1e3,
        read_time.as_secs_f64() * 1e3
    );
    assert_eq!(same, 100);
    session.close().await?;
    Ok(())
}
