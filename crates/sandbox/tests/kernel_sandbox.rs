//! Kernels inside a real sandbox (needs root, as CI has): the drivers must work with only
//! `/usr`, `/etc` and `/opt` from the host, a private `/tmp` and a clean environment.

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::kernel::{KernelConfig, KernelError, KernelSet, TimeoutOutcome};
use agbcloud_sandbox::{Engine, EngineConfig, Image, Limits};

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn kernels_run_inside_a_sandbox() {
    let engine = match Engine::with_config(EngineConfig::default()) {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("skipped: no sandbox engine on this host ({err})");
            return;
        }
    };
    let sandbox = engine
        .create(&Image::standard(), &Limits::default())
        .await
        .expect("sandbox");
    let kernels = KernelSet::new(Arc::new(sandbox.clone()), KernelConfig::default());

    kernels
        .execute("python", "x = 41", T, None)
        .await
        .expect("python");
    let run = kernels
        .execute("python", "import os\nos.system('echo hi')\nx + 1", T, None)
        .await
        .unwrap();
    assert_eq!(run.main_text(), Some("42"), "{run:?}");
    assert_eq!(run.stdout_text(), "hi\n");
    let run = kernels
        .execute("py", "import os\nos.getcwd(), os.getuid() != 0", T, None)
        .await
        .unwrap();
    assert_eq!(run.main_text(), Some("('/home/user', True)"), "{run:?}");
    let run = kernels
        .execute(
            "python",
            "while True: pass",
            Duration::from_millis(300),
            None,
        )
        .await
        .unwrap();
    assert_eq!(run.timeout, Some(TimeoutOutcome::Interrupted), "{run:?}");
    assert_eq!(
        kernels
            .execute("python", "x", T, None)
            .await
            .unwrap()
            .main_text(),
        Some("41")
    );

    kernels
        .execute("js", "const a = 1", T, None)
        .await
        .expect("node");
    let run = kernels
        .execute("js", "const a = 2; await Promise.resolve(a + 1)", T, None)
        .await
        .unwrap();
    assert_eq!(run.main_text(), Some("3"), "{run:?}");

    kernels
        .execute("java", "int x = 41;", T, None)
        .await
        .expect("java");
    let run = kernels.execute("java", "x + 1", T, None).await.unwrap();
    assert_eq!(run.main_text(), Some("42"), "{run:?}");

    match kernels.execute("r", "x <- 41\nx + 1", T, None).await {
        Ok(run) => assert_eq!(run.main_text(), Some("[1] 42"), "{run:?}"),
        Err(KernelError::Unavailable { .. }) => eprintln!("R skipped: Rscript is not installed"),
        Err(err) => panic!("R failed: {err}"),
    }

    kernels.shutdown();
    sandbox.destroy().await.expect("destroy");
}
