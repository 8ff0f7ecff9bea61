//! The second identical deterministic run is served from the cache, without a request.
//!
//! `cargo run --release --example caching`

use std::time::Instant;

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;
    let cache = ResultCache::default();
    let code = "import time\ntime.sleep(0.5)\nprint('Calculation complete: 42')";

    agb.with_session(CreateParams::default(), |session| async move {
        for attempt in 1..=2 {
            let started = Instant::now();
            let run = session
                .code()
                .run(code, Language::Python)
                .cache(&cache)
                .await?;
            println!(
                "run {attempt}: {:<28} {:>9.3} ms  {}",
                run.logs.stdout.first().map_or("", |line| line.trim_end()),
                started.elapsed().as_secs_f64() * 1e3,
                if run.from_cache {
                    "(from cache)"
                } else {
                    "(executed)"
                },
            );
        }
        let metrics = cache.metrics();
        println!(
            "cache: {} hit, {} miss, {} entry",
            metrics.hits, metrics.misses, metrics.entries
        );
        assert_eq!(metrics.hits, 1);
        Ok(())
    })
    .await?;
    Ok(())
}
