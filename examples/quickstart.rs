//! Create a session, run Python, run a command, write and read a file, delete the session.
//!
//! Runs with no account and no configuration on the embedded local engine:
//! `cargo run --release --example quickstart`. With `AGB_ENDPOINT` (and `AGB_API_KEY`) set,
//! the same code talks to that server instead, e.g. one started with `agb serve`.

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;

    let session = agb.create(CreateParams::default()).await?;
    println!("session   {}", session.id());

    let run = session
        .code()
        .run(
            "import platform\nprint('hello from', platform.python_implementation())\n6 * 7",
            Language::Python,
        )
        .await?;
    println!("stdout    {}", run.stdout().trim_end());
    println!("result    {}", run.text());

    let out = session
        .command()
        .exec("echo $((20 + 22)) && uname -s")
        .await?;
    println!(
        "command   exit {:?}: {}",
        out.exit_code,
        out.stdout.trim_end().replace('\n', " ")
    );

    session
        .fs()
        .write_text("/tmp/notes.txt", "alpha\nbeta\n")
        .await?;
    let text = session.fs().read_text("/tmp/notes.txt").await?;
    println!("file      {:?}", text);

    session.delete().await?;
    println!("deleted   {}", session.id());
    Ok(())
}
