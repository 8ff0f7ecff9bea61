//! Dangerous code is refused before it is sent, naming the rule and the line; safe code runs.
//!
//! The policy is a speed bump, not a wall: the sandbox is what contains untrusted code.
//! `cargo run --release --example security`

use agbcloud::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    agbcloud_examples::init_logging();
    let agb = Agb::builder()
        .code_policy(CodePolicy::recommended())
        .build()?;

    let attempts = [
        (
            "dunder import",
            "data = [1, 2]\n__import__('os').system('id')",
        ),
        ("from-import", "from os import system\nsystem('id')"),
        (
            "computed builtin",
            "f = getattr(__builtins__, 'ev' + 'al')\nf('1 + 1')",
        ),
        (
            "subprocess",
            "import json\nimport subprocess\nsubprocess.run(['id'])",
        ),
        ("safe", "import statistics\nstatistics.mean([1, 2, 3, 4])"),
    ];

    agb.with_session(CreateParams::default(), |session| async move {
        for (name, code) in attempts {
            match session.code().run(code, Language::Python).await {
                Ok(run) => println!("{name:<17} ran: {}", run.text()),
                Err(Error::PolicyViolation(violation)) => println!(
                    "{name:<17} refused by `{}` at line {}: {}",
                    violation.rule, violation.line, violation.detail
                ),
                Err(other) => return Err(other),
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}
