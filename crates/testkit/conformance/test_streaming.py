"""`code.run(..., stream_beta=True)`: WebSocket streaming with callbacks."""

import time


class Recorder:
    def __init__(self):
        self.stdout = []  # (monotonic time, chunk)
        self.stderr = []
        self.errors = []

    def on_stdout(self, chunk):
        self.stdout.append((time.monotonic(), chunk))

    def on_stderr(self, chunk):
        self.stderr.append((time.monotonic(), chunk))

    def on_error(self, err):
        self.errors.append(err)

    def run(self, session, code, language="python", **kw):
        return session.code.run(
            code,
            language,
            stream_beta=True,
            on_stdout=self.on_stdout,
            on_stderr=self.on_stderr,
            on_error=self.on_error,
            **kw,
        )


def test_stdout_chunks_arrive_as_they_are_produced(session):
    rec = Recorder()
    code = "import time\nprint('hello')\ntime.sleep(1.5)\nprint(2)\n40 + 2"
    r = rec.run(session, code)
    assert r.success, r.error_message
    assert rec.errors == []
    assert r.request_id, "the invocation id becomes the request id"

    text = "".join(c for _, c in rec.stdout)
    assert text == "hello\n2\n"
    assert "".join(r.logs.stdout) == "hello\n2\n"
    assert len(rec.stdout) >= 2

    t_hello = next(t for t, c in rec.stdout if "hello" in c)
    t_two = next(t for t, c in rec.stdout if "2" in c)
    assert t_two - t_hello >= 1.0, (
        f"chunks arrived {t_two - t_hello:.2f}s apart: output was buffered, not streamed"
    )

    mains = [x for x in r.results if x.is_main_result]
    assert [m.text for m in mains] == ["42"]
    assert r.execution_time > 0


def test_stderr_is_streamed_to_its_callback(session):
    rec = Recorder()
    r = rec.run(session, "import sys\nsys.stderr.write('careful\\n')\nsys.stderr.flush()\nprint('fine')")
    assert r.success, r.error_message
    assert "careful" in "".join(c for _, c in rec.stderr)
    assert "careful" not in "".join(c for _, c in rec.stdout)
    assert "".join(c for _, c in rec.stdout) == "fine\n"


def test_streamed_error_fails_the_run(session):
    rec = Recorder()
    r = rec.run(session, "print('partial')\nraise RuntimeError('stream boom')")
    assert not r.success
    assert "stream boom" in r.error_message, r.error_message
    assert r.error is not None
    assert "partial" in "".join(c for _, c in rec.stdout)


def test_streaming_shares_the_kernel_with_plain_runs(session):
    rec = Recorder()
    assert rec.run(session, "shared_value = 21").success
    r = session.code.run("shared_value * 2", "python")
    assert r.success, r.error_message
    assert r.result == "42"
    r2 = rec.run(session, "shared_value + 1")
    assert r2.success, r2.error_message
    assert r2.result == "22"


def test_several_streams_on_one_connection(session):
    rec = Recorder()
    for i in range(3):
        r = rec.run(session, f"print('run {i}')")
        assert r.success, r.error_message
    assert "".join(c for _, c in rec.stdout) == "run 0\nrun 1\nrun 2\n"


def test_javascript_streams_too(session):
    rec = Recorder()
    r = rec.run(session, "console.log('js streamed'); 6 * 7", language="javascript")
    assert r.success, r.error_message
    assert "".join(c for _, c in rec.stdout) == "js streamed\n"
    assert r.result == "42"
