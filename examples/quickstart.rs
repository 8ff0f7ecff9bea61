//! Create a session, run Python, run a command, write and read a file, delete the session.
//!
//! The session is guarded: dropping the guard (an early `?`, a panic) deletes it too.
//!
//! Runs with no account and no configuration on the embedded local engine:
//! `cargo run --release --example quickstart`. With `AGB_ENDPOINT` (and `AGB_API_KEY`) set,
//! the same code talks to that server instead, e.g. one started with `agb serve`.

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder().build()?;

    // A guarded session is deleted even if a step below fails and returns early.
    let session = agb.create_guarded(CreateParams::default()).await?;
    let id = session.id().to_owned();
    println!("session   {id}");

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
    let code = out
        .exit_code
        .map_or("unknown".to_owned(), |c| c.to_string());
    let stdout = out.stdout.trim_end().replace('\n', " ");
    println!("command   exit {code}: {stdout}");

    session
        .fs()
        .write_text("/tmp/notes.txt", "alpha\nbeta\n")
        .await?;
    let text = session.fs().read_text("/tmp/notes.txt").await?;
    println!("file      {:?}", text);

    session.close().await?;
    println!("deleted   {id}");
    Ok(())
}
