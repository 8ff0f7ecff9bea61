//! R kernel tests on the host launcher.

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::host::HostLauncher;
use agbcloud_sandbox::kernel::{KernelConfig, KernelError, KernelSet};

const T: Duration = Duration::from_secs(30);

fn has_rscript() -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v Rscript"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn missing_rscript_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = KernelConfig {
        rscript: "Rscript-not-here".into(),
        ..KernelConfig::default()
    };
    let k = KernelSet::new(Arc::new(HostLauncher::new()), config.with_home(dir.path()));
    match k.execute("R", "x <- 41", T, None).await {
        Err(KernelError::Unavailable { language, reason }) => {
            assert_eq!(language, "r");
            assert_eq!(reason, "Rscript is not installed on this host");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // unsupported names fail before anything starts
    let err = k.execute("ruby", "1", T, None).await.unwrap_err();
    assert!(matches!(err, KernelError::UnsupportedLanguage(_)), "{err}");
}

#[tokio::test]
async fn r_kernel_on_this_host() {
    let dir = tempfile::tempdir().unwrap();
    let k = KernelSet::new(
        Arc::new(HostLauncher::new()),
        KernelConfig::default().with_home(dir.path()),
    );
    let res = k.execute("r", "x <- 41", T, None).await;
    if !has_rscript() {
        assert!(
            matches!(res, Err(KernelError::Unavailable { .. })),
            "{res:?}"
        );
        eprintln!(
            "skipped the R driver checks: Rscript is not installed (apt-get install r-base-core)"
        );
        return;
    }
    assert!(res.expect("R runs").is_ok());
    let run = k
        .execute("r", "cat('hi\\n')\nx + 1", T, None)
        .await
        .unwrap();
    assert_eq!(run.stdout_text(), "hi\n");
    assert_eq!(run.main_text(), Some("[1] 42"));
    let run = k
        .execute("r", "print('a')\nstop('boom')", T, None)
        .await
        .unwrap();
    assert_eq!(run.stdout_text(), "[1] \"a\"\n");
    assert_eq!(run.error.expect("error").value, "boom");
    let run = k
        .execute("r", "message('note')\nlength(c(1, 2, 3))", T, None)
        .await
        .unwrap();
    assert_eq!(run.stderr_text(), "note\n");
    assert_eq!(run.main_text(), Some("[1] 3"));
    let run = k
        .execute(
            "r",
            "y <- 5\nwhile (TRUE) {}",
            Duration::from_millis(500),
            None,
        )
        .await
        .unwrap();
    assert!(run.timeout.is_some(), "{run:?}");
    let run = k
        .execute("r", "df <- data.frame(a = 1:2)\nnrow(df) + x", T, None)
        .await
        .unwrap();
    assert_eq!(run.main_text(), Some("[1] 43"), "{run:?}");
    let run = k.execute("r", "f <- function( {", T, None).await.unwrap();
    assert_eq!(run.error.expect("syntax").name, "SyntaxError");
    let run = k.execute("r", "é <- 'ü'; é", T, None).await.unwrap();
    assert_eq!(run.main_text(), Some("[1] \"ü\""), "{run:?}");
}
