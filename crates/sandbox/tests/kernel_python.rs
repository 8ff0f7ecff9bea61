//! Python kernel tests on the host launcher (`/usr/bin/python3`).

mod common;

use std::time::{Duration, Instant};

use agbcloud_sandbox::kernel::{Execution, KernelConfig, KernelEvent, KernelSet, TimeoutOutcome};

const T: Duration = Duration::from_secs(30);

async fn py(k: &KernelSet, code: &str) -> Execution {
    k.execute("python", code, T, None)
        .await
        .expect("kernel failure")
}

fn has_module(name: &str) -> bool {
    std::process::Command::new("/usr/bin/python3")
        .args(["-c", &format!("import {name}")])
        .env_clear()
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn state_persists_and_last_expression_is_main_result() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let first = py(&k, "x = 41").await;
    assert!(first.is_ok(), "{first:?}");
    assert!(first.results.is_empty());
    assert_eq!(first.execution_count, 1);
    let second = py(&k, "x + 1").await;
    assert_eq!(second.main_text(), Some("42"));
    assert_eq!(second.execution_count, 2);
    // `None` is not a result; statements after an expression are fine.
    let third = py(&k, "print('a')\nNone").await;
    assert!(third.results.is_empty());
    assert_eq!(third.stdout_text(), "a\n");
    // aliases share the kernel
    assert_eq!(
        k.execute("py", "x", T, None).await.unwrap().main_text(),
        Some("41")
    );
}

#[tokio::test]
async fn error_keeps_prior_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = py(&k, "print('before')\ndef f():\n    return 1 / 0\nf()").await;
    assert_eq!(run.stdout_text(), "before\n");
    let err = run.error.expect("error");
    assert_eq!(err.name, "ZeroDivisionError");
    assert_eq!(err.value, "division by zero");
    assert!(err.traceback.contains("Traceback"), "{}", err.traceback);
    assert!(err.traceback.contains("return 1 / 0"), "{}", err.traceback);
    assert!(!err.traceback.contains("_agb_main"), "{}", err.traceback);
    // user-printed tracebacks show the cell's source lines
    let run = py(
        &k,
        "import traceback\ntry:\n    1 / 0\nexcept Exception:\n    traceback.print_exc()",
    )
    .await;
    assert!(run.stderr_text().contains("    1 / 0"), "{:?}", run.stderr);
    // syntax errors too, and the kernel lives on
    let bad = py(&k, "x = (").await;
    assert_eq!(bad.error.expect("syntax error").name, "SyntaxError");
    assert_eq!(py(&k, "1 + 1").await.main_text(), Some("2"));
}

#[tokio::test]
async fn child_process_and_raw_fd_output_is_captured() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = py(
        &k,
        "import os, sys\nprint('py')\nos.system('echo hi')\nos.write(2, b'raw\\n')\nprint('end')",
    )
    .await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(run.stdout_text(), "py\nhi\nend\n");
    assert_eq!(run.stderr_text(), "raw\n");
    let run = py(
        &k,
        "import subprocess\nsubprocess.run(['sh', '-c', 'echo sub; echo suberr >&2'])\n0",
    )
    .await;
    assert_eq!(run.stdout_text(), "sub\n");
    assert_eq!(run.stderr_text(), "suberr\n");
}

#[tokio::test]
async fn rich_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let code = r##"
class H:
    def _repr_html_(self): return "<b>hi</b>"
    def __repr__(self): return "H()"
class M:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/markdown": "# t", "application/json": {"a": 1}}
class P:
    def _repr_png_(self): return b"\x89PNG"
display(M(), P())
H()
"##;
    let run = py(&k, code).await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(run.results.len(), 3);
    assert!(!run.results[0].is_main_result);
    assert_eq!(run.results[0].data["text/markdown"], "# t");
    assert_eq!(
        run.results[0].data["application/json"],
        serde_json::json!({"a": 1})
    );
    assert_eq!(run.results[1].data["image/png"], "iVBORw==");
    // values JSON cannot carry do not break the protocol
    let nan = py(
        &k,
        "class J:\n    def _repr_json_(self): return {'x': float('nan')}\nJ()",
    )
    .await;
    assert_eq!(
        nan.main_result().unwrap().data["application/json"],
        serde_json::json!({"x": null})
    );
    let main = run.main_result().expect("main");
    assert_eq!(main.data["text/html"], "<b>hi</b>");
    assert_eq!(main.data["text/plain"], "H()");
}

#[tokio::test]
async fn streaming_arrives_before_the_cell_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let run = k.execute(
        "python",
        "import time\nprint('one')\ntime.sleep(0.3)\nprint('two')\n3",
        T,
        Some(&tx),
    );
    let first = async {
        let ev = rx.recv().await.expect("event");
        (ev, started.elapsed())
    };
    let (run, (first, at)) = tokio::join!(run, first);
    let run = run.unwrap();
    assert_eq!(first, KernelEvent::Stdout("one\n".into()));
    assert!(
        at + Duration::from_millis(200) < run.execution_time,
        "first chunk at {at:?}, cell {:?}",
        run.execution_time
    );
    assert_eq!(rx.recv().await, Some(KernelEvent::Stdout("two\n".into())));
    assert!(matches!(rx.recv().await, Some(KernelEvent::Result(r)) if r.is_main_result));
    // a partial line is flushed by the timer, not held until the end
    let started = Instant::now();
    let run = k.execute(
        "python",
        "import time\nprint('part', end='')\ntime.sleep(0.3)",
        T,
        Some(&tx),
    );
    let first = async { (rx.recv().await, started.elapsed()) };
    let (run, (first, at)) = tokio::join!(run, first);
    assert_eq!(first, Some(KernelEvent::Stdout("part".into())));
    assert!(at < Duration::from_millis(200), "{at:?}");
    assert_eq!(run.unwrap().stdout, ["part"]);
}

#[tokio::test]
async fn timeout_interrupts_and_kernel_survives() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    py(&k, "kept = 7").await;
    let run = k
        .execute(
            "python",
            "print('spin')\nwhile True: pass",
            Duration::from_millis(300),
            None,
        )
        .await
        .unwrap();
    assert_eq!(run.timeout, Some(TimeoutOutcome::Interrupted));
    let err = run.error.as_ref().expect("timeout error");
    assert_eq!(err.name, "TimeoutError");
    assert!(
        err.value.contains("timed out") && err.value.contains("kept its state"),
        "{}",
        err.value
    );
    assert_eq!(run.stdout_text(), "spin\n");
    assert_eq!(py(&k, "kept").await.main_text(), Some("7"));
}

#[tokio::test]
async fn timeout_while_flooding_output() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let code = "while True: print('x' * 100)";
    let run = k
        .execute("python", code, Duration::from_millis(300), None)
        .await
        .unwrap();
    assert_eq!(
        run.timeout,
        Some(TimeoutOutcome::Interrupted),
        "{:?}",
        run.error
    );
    assert!(run.stdout_text().len() <= KernelConfig::default().output_limit + 100);
    assert_eq!(py(&k, "'alive'").await.main_text(), Some("'alive'"));
}

#[tokio::test]
async fn timeout_kills_a_kernel_that_ignores_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    py(&k, "lost = 1").await;
    let code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: time.sleep(0.01)";
    let started = Instant::now();
    let run = k
        .execute("python", code, Duration::from_millis(200), None)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(run.timeout, Some(TimeoutOutcome::Restarted));
    let err = run.error.expect("timeout error");
    assert!(err.value.contains("state was lost"), "{}", err.value);
    let after = py(&k, "lost").await;
    assert_eq!(after.error.expect("NameError").name, "NameError");
    assert_eq!(after.execution_count, 1);
}

#[tokio::test]
async fn hostile_code() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    // stdin is /dev/null
    let run = py(
        &k,
        "import sys\nrepr(sys.stdin.read()) + repr(open(0).read())",
    )
    .await;
    assert_eq!(run.main_text(), Some("\"''''\""));
    // sys.exit is an ordinary error
    let run = py(&k, "import sys\nsys.exit(3)").await;
    assert_eq!(run.error.expect("SystemExit").name, "SystemExit");
    assert_eq!(py(&k, "1").await.main_text(), Some("1"));
    // os._exit kills the kernel: reported, and the next cell gets a new one
    py(&k, "v = 1").await;
    let run = py(&k, "import os\nprint('bye', flush=True)\nos._exit(1)").await;
    assert_eq!(run.error.as_ref().expect("died").name, "KernelDied");
    assert_eq!(run.stdout_text(), "bye\n");
    assert_eq!(py(&k, "'v' in globals()").await.main_text(), Some("False"));
    // huge output is capped with a marker; the kernel stays usable
    let run = py(&k, "for i in range(200000): print('x' * 99)").await;
    let out = run.stdout_text();
    assert!(
        out.len() <= KernelConfig::default().output_limit + 100,
        "{}",
        out.len()
    );
    assert!(out.ends_with("bytes]\n"), "{}", &out[out.len() - 80..]);
    let run = py(&k, "print('y' * 20_000_000, end='')").await;
    assert!(run.stdout_text().contains("output truncated"));
    // a result too large for one frame is replaced by a note, the kernel survives
    let run = py(
        &k,
        "class Big:\n    def _repr_html_(self): return 'h' * 60_000_000\nBig()",
    )
    .await;
    assert!(run.results.is_empty());
    assert!(run.stderr_text().contains("too large"), "{:?}", run.stderr);
    assert_eq!(py(&k, "2 + 2").await.main_text(), Some("4"));
    // writing to the protocol fds' old numbers goes to capture
    let run = py(&k, "import os\nos.write(1, b'\\x00\\x00\\x00\\x05junk')\n2").await;
    assert_eq!(run.main_text(), Some("2"));
    assert_eq!(run.stdout_text(), "\0\0\0\x05junk");
    // forked children (multiprocessing, os.fork) print through the capture, not the protocol
    let code = "import multiprocessing as mp, os\n\
                def f(x):\n    print('child', x, flush=True)\n    return x * 2\n\
                with mp.get_context('fork').Pool(2) as p:\n    r = p.map(f, [1, 2])\n\
                if os.fork() == 0:\n    print('forked')\nelse:\n    os.wait()\nr";
    let run = py(&k, code).await;
    assert_eq!(run.main_text(), Some("[2, 4]"), "{run:?}");
    let mut lines: Vec<_> = run.stdout_text().lines().map(String::from).collect();
    lines.sort();
    assert_eq!(lines, ["child 1", "child 2", "forked"]);
    // non-UTF-8 output and lone surrogates survive
    let run = py(
        &k,
        "import os\nos.write(1, b'\\xff\\n')\nprint('\\udc80')\n'\\ud800'",
    )
    .await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(run.stdout_text(), "\u{fffd}\n?\n");
}

#[tokio::test]
async fn ipython_style_shell_and_magics() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = py(&k, "%matplotlib inline\n!echo hi\nfor i in range(2):\n    !echo $HOME\n%env AGB_X=1\nimport os\nos.environ['AGB_X']").await;
    assert!(run.is_ok(), "{run:?}");
    let home = dir.path().to_string_lossy();
    assert_eq!(run.stdout_text(), format!("hi\n{home}\n{home}\n"));
    assert_eq!(run.main_text(), Some("'1'"));
    let run = py(&k, "%%bash\necho a\necho b >&2").await;
    assert_eq!(
        (run.stdout_text().as_str(), run.stderr_text().as_str()),
        ("a\n", "b\n")
    );
    assert!(run.results.is_empty(), "{:?}", run.results);
    // a real syntax error is still reported as such
    assert_eq!(
        py(&k, "!echo x\nx = (").await.error.expect("error").name,
        "SyntaxError"
    );
}

#[tokio::test]
async fn top_level_await() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = py(
        &k,
        "import asyncio\nawait asyncio.sleep(0.01)\nasync def f(): return 5\nawait f()",
    )
    .await;
    assert_eq!(run.main_text(), Some("5"), "{run:?}");
}

#[tokio::test]
async fn matplotlib_figures_are_png() {
    if !has_module("matplotlib") {
        eprintln!(
            "skipped: matplotlib is not installed for /usr/bin/python3 (apt-get install python3-matplotlib)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let run = py(&k, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nprint('drawn')\nplt.show()\nplt.figure()\nplt.plot([3, 2])\nNone").await;
    assert!(run.is_ok(), "{run:?}");
    let pngs: Vec<_> = run
        .results
        .iter()
        .filter(|r| r.data.contains_key("image/png"))
        .collect();
    assert_eq!(pngs.len(), 2, "{:?}", run.results);
    assert!(
        pngs[0].data["image/png"]
            .as_str()
            .unwrap()
            .starts_with("iVBOR")
    );
    assert!(run.stderr.is_empty(), "{:?}", run.stderr);
}

#[tokio::test]
async fn ipython_display_objects() {
    if !has_module("IPython") {
        eprintln!(
            "skipped: IPython is not installed for /usr/bin/python3 (apt-get install python3-ipython)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let k = common::host_kernels(&dir);
    let code = "from IPython.display import display, HTML, Markdown, SVG, Latex\n\
                display(HTML('<i>x</i>'))\ndisplay(Markdown('**m**'))\nLatex('$x$')";
    let run = py(&k, code).await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(run.results[0].data["text/html"], "<i>x</i>");
    assert_eq!(run.results[1].data["text/markdown"], "**m**");
    assert_eq!(run.main_result().unwrap().data["text/latex"], "$x$");
}
