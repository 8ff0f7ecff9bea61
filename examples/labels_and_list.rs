//! Label sessions, list them by label (page by page), relabel one, and clean up.
//!
//! `cargo run --release --example labels_and_list`

use agbcloud::Labels;
use agbcloud::prelude::*;
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;
    let mut sessions = Vec::new();
    for env in ["dev", "dev", "prod"] {
        let params = CreateParams::default()
            .label("project", "labels-demo")
            .label("env", env);
        sessions.push(agb.create_guarded(params).await?);
    }

    let filter = ListFilter::all()
        .label("project", "labels-demo")
        .page_size(2);
    let all: Vec<_> = agb.list(filter.clone()).try_collect().await?;
    println!("project=labels-demo: {} sessions (pages of 2)", all.len());
    let dev = agb.list_all(filter.clone().label("env", "dev")).await?;
    println!("project=labels-demo, env=dev: {} sessions", dev.len());

    let mut labels = Labels::new();
    labels.insert("project".into(), "labels-demo".into());
    labels.insert("env".into(), "staging".into());
    sessions[0].set_labels(labels).await?;
    println!(
        "relabelled {}: {:?}",
        sessions[0].id(),
        sessions[0].labels().await?
    );
    let dev_now = agb.list_all(filter.label("env", "dev")).await?;
    println!("env=dev after relabelling: {} session", dev_now.len());
    assert_eq!((all.len(), dev.len(), dev_now.len()), (3, 2, 1));

    for session in sessions {
        session.close().await?;
    }
    Ok(())
}
