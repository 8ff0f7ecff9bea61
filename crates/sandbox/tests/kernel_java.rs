//! Java kernel tests on the host launcher (`/usr/bin/java`, JShell API, local engine).

use std::sync::Arc;
use std::time::Duration;

use agbcloud_sandbox::host::HostLauncher;
use agbcloud_sandbox::kernel::{Execution, KernelConfig, KernelSet, TimeoutOutcome};

const T: Duration = Duration::from_secs(60);

async fn java(k: &KernelSet, code: &str) -> Execution {
    k.execute("java", code, T, None)
        .await
        .expect("kernel failure")
}

#[tokio::test]
async fn java_snippets() {
    let dir = tempfile::tempdir().unwrap();
    let config = KernelConfig {
        interrupt_grace: Duration::from_secs(2),
        driver_dir: dir.path().join(".agb").to_string_lossy().into_owned(),
        ..KernelConfig::default()
    };
    let k = KernelSet::new(Arc::new(HostLauncher::new()), config.with_home(dir.path()));
    let run = java(&k, "int x = 41;").await;
    assert!(run.is_ok(), "{run:?}");
    assert!(run.results.is_empty(), "{:?}", run.results);
    assert_eq!(java(&k, "x + 1").await.main_text(), Some("42"));
    assert_eq!(java(&k, "\"aaa\"").await.main_text(), Some("\"aaa\""));
    let run = java(&k, "import java.util.*;\nList<Integer> l = List.of(1, 2, 3);\nSystem.out.println(\"size \" + l.size());\nl").await;
    assert_eq!(run.stdout_text(), "size 3\n");
    assert_eq!(run.main_text(), Some("[1, 2, 3]"));
    let run = java(
        &k,
        "String greet(String n) { return \"hi \" + n; }\ngreet(\"bob\")",
    )
    .await;
    assert_eq!(run.main_text(), Some("\"hi bob\""), "{run:?}");

    let run = java(&k, "System.out.println(\"before\");\nint z = 1 / 0;").await;
    assert_eq!(run.stdout_text(), "before\n");
    let err = run.error.expect("error");
    assert_eq!(err.name, "java.lang.ArithmeticException");
    assert_eq!(err.value, "/ by zero");
    let run = java(&k, "int y = \"s\";").await;
    assert_eq!(run.error.expect("compile error").name, "CompilationError");
    let run = java(&k, "System.err.print(\"e\")").await;
    assert_eq!(run.stderr_text(), "e");

    let run = k
        .execute("java", "while (true) {}", Duration::from_millis(500), None)
        .await
        .unwrap();
    assert_eq!(run.timeout, Some(TimeoutOutcome::Interrupted), "{run:?}");
    assert_eq!(java(&k, "x").await.main_text(), Some("41"));
    let flood = "while (true) System.out.println(\"x\".repeat(100));";
    let run = k
        .execute("java", flood, Duration::from_millis(500), None)
        .await
        .unwrap();
    assert_eq!(
        run.timeout,
        Some(TimeoutOutcome::Interrupted),
        "{:?}",
        run.error
    );
    assert_eq!(java(&k, "x").await.main_text(), Some("41"));

    // The first start compiled the driver in the background; a new kernel runs the classes.
    let driver_dir = dir.path().join(".agb");
    let compiled = || {
        std::fs::read_dir(&driver_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|d| d.path().join("AgbJShellDriver.class").exists())
    };
    for _ in 0..100 {
        if compiled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(compiled(), "driver classes were not cached");
    k.shutdown();
    let run = java(&k, "String s = \"again\";\ns").await;
    assert_eq!(run.main_text(), Some("\"again\""), "{run:?}");
    assert_eq!(run.execution_count, 1);
}
