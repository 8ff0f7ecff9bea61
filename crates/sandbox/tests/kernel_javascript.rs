//! JavaScript kernel tests on the host launcher (`/usr/bin/node`).

mod common;

use std::time::{Duration, Instant};

use agbcloud_sandbox::kernel::{Execution, KernelEvent, KernelSet, TimeoutOutcome};

const T: Duration = Duration::from_secs(30);

async fn js(k: &KernelSet, code: &str) -> Execution {
    k.execute("javascript", code, T, None)
        .await
        .expect("kernel failure")
}

#[tokio::test]
async fn state_completion_value_and_redeclaration() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = js(
        &k,
        "const a = 1; let b = 2; class C {}; function f() { return a + b }",
    )
    .await;
    assert!(run.is_ok(), "{run:?}");
    assert!(run.results.is_empty(), "{:?}", run.results);
    let run = js(
        &k,
        "const a = 10;\nlet b = 20\nclass C { x() { return 1 } }\nf() + new C().x()",
    )
    .await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(run.main_text(), Some("31"));
    assert_eq!(
        js(&k, "[1, 2, 3].map(x => x * a)").await.main_text(),
        Some("[ 10, 20, 30 ]")
    );
    assert_eq!(js(&k, "'aaa'").await.main_text(), Some("'aaa'"));
    assert_eq!(
        js(&k, "{ a: 1, b: [2] }").await.main_text(),
        Some("{ a: 1, b: [ 2 ] }")
    );
    assert_eq!(js(&k, "{ let t = 4; t * 2 }").await.main_text(), Some("8"));
    assert_eq!(
        js(&k, "for (let i = 0; i < 2; i++) {}").await.main_text(),
        None
    );
    assert_eq!(
        js(&k, "navigator.userAgent.startsWith('Node.js/')")
            .await
            .main_text(),
        Some("true")
    );
}

#[tokio::test]
async fn promises_and_top_level_await() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = js(&k, "new Promise(r => setTimeout(() => r(5), 20))").await;
    assert_eq!(run.main_text(), Some("5"), "{run:?}");
    let run = js(&k, "const v = await Promise.resolve(6);\nconst { w, z: [q] } = { w: 1, z: [2] };\nfunction g() { return v }\nclass K {}\nv + w + q").await;
    assert_eq!(run.main_text(), Some("9"), "{run:?}");
    let run = js(
        &k,
        "const v = await Promise.resolve(7); g() + w + q + (new K() ? 0 : 1)",
    )
    .await;
    assert_eq!(run.main_text(), Some("10"), "{run:?}");
    let run = js(&k, "await Promise.reject(new TypeError('nope'))").await;
    let err = run.error.expect("error");
    assert_eq!(
        (err.name.as_str(), err.value.as_str()),
        ("TypeError", "nope")
    );
}

#[tokio::test]
async fn console_errors_and_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = js(
        &k,
        "console.log('hi', {a: 1}); console.error('oops'); process.stdout.write('raw')",
    )
    .await;
    assert_eq!(run.stdout_text(), "hi { a: 1 }\nraw");
    assert_eq!(run.stderr_text(), "oops\n");
    assert_eq!(run.main_text(), Some("true"));
    let run = js(&k, "console.log('before'); null.x").await;
    assert_eq!(run.stdout_text(), "before\n");
    let err = run.error.expect("error");
    assert_eq!(err.name, "TypeError");
    assert!(err.traceback.contains("<cell-"), "{}", err.traceback);
    let run = js(&k, "let = ").await;
    assert_eq!(run.error.expect("syntax").name, "SyntaxError");
    // child process stderr (inherited fd 2) is captured
    let run = js(
        &k,
        "require('child_process').execSync('echo out; echo err >&2').toString()",
    )
    .await;
    assert_eq!(run.main_text(), Some("'out\\n'"));
    assert_eq!(run.stderr_text(), "err\n");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let code = "console.log('one'); await new Promise(r => setTimeout(r, 300)); console.log('two')";
    let run = k.execute("js", code, T, Some(&tx));
    let first = async { (rx.recv().await, started.elapsed()) };
    let (run, (first, at)) = tokio::join!(run, first);
    let run = run.unwrap();
    assert_eq!(first, Some(KernelEvent::Stdout("one\n".into())));
    assert!(
        at + Duration::from_millis(200) < run.execution_time,
        "{at:?}"
    );
}

#[tokio::test]
async fn timeouts_and_exit() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    js(&k, "var kept = 3").await;
    let run = k
        .execute("js", "while (true) {}", Duration::from_millis(300), None)
        .await
        .unwrap();
    assert_eq!(run.timeout, Some(TimeoutOutcome::Interrupted), "{run:?}");
    assert_eq!(js(&k, "kept").await.main_text(), Some("3"));
    let run = k
        .execute(
            "js",
            "await new Promise(() => {})",
            Duration::from_millis(300),
            None,
        )
        .await
        .unwrap();
    assert_eq!(run.timeout, Some(TimeoutOutcome::Interrupted), "{run:?}");
    assert_eq!(js(&k, "kept").await.main_text(), Some("3"));
    let flood = "while (true) console.log('x'.repeat(100))";
    let run = k
        .execute("js", flood, Duration::from_millis(300), None)
        .await
        .unwrap();
    assert_eq!(
        run.timeout,
        Some(TimeoutOutcome::Interrupted),
        "{:?}",
        run.error
    );
    assert_eq!(js(&k, "kept").await.main_text(), Some("3"));
    let run = js(&k, "process.exit(2)").await;
    assert_eq!(run.error.expect("died").name, "KernelDied");
    let run = js(&k, "typeof kept").await;
    assert_eq!(run.main_text(), Some("'undefined'"));
    // a value too large for one frame is replaced by a note
    let run = js(&k, "'x'.repeat(60_000_000)").await;
    assert!(
        run.main_text().unwrap().len() < 100_000,
        "util.inspect truncates long strings"
    );
    let run = js(&k, "display('h'.repeat(60_000_000), 'text/html')").await;
    assert!(run.results.is_empty());
    assert!(run.stderr_text().contains("too large"), "{:?}", run.stderr);
    // stdin is empty
    let run = js(&k, "require('fs').readFileSync(0).length").await;
    assert_eq!(run.main_text(), Some("0"), "{run:?}");
}
