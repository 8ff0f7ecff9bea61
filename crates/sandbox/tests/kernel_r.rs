//! R kernel tests on the host launcher. This host has no `Rscript`: the kernel must say so.

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::host::HostLauncher;
use agbcloud_sandbox::kernel::{KernelConfig, KernelError, KernelSet};

fn has_rscript() -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v Rscript"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn r_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let k = KernelSet::new(
        Arc::new(HostLauncher::new()),
        KernelConfig::default().with_home(dir.path()),
    );
    let res = k
        .execute("R", "x <- 41", Duration::from_secs(30), None)
        .await;
    if has_rscript() {
        assert!(res.expect("R runs").is_ok());
        let run = k
            .execute("r", "cat('hi\\n')\nx + 1", Duration::from_secs(30), None)
            .await
            .unwrap();
        assert_eq!(run.stdout_text(), "hi\n");
        assert_eq!(run.main_text(), Some("[1] 42"));
        return;
    }
    match res {
        Err(KernelError::Unavailable { language, reason }) => {
            assert_eq!(language, "r");
            assert_eq!(reason, "Rscript is not installed on this host");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // unsupported names fail before anything starts
    let err = k
        .execute("ruby", "1", Duration::from_secs(1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, KernelError::UnsupportedLanguage(_)), "{err}");
}
