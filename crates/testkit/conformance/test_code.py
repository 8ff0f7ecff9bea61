"""`session.code.run` for Python, JavaScript, Java and R (stateful kernels)."""

import re
import shutil
import time

import pytest


def stdout_of(r) -> str:
    return "".join(r.logs.stdout)


def stderr_of(r) -> str:
    return "".join(r.logs.stderr)


def main_results(r):
    return [x for x in r.results if x.is_main_result]


# ----------------------------------------------------------------------------- Python


def test_python_state_is_kept_across_calls(session):
    r1 = session.code.run("x = 41\ndef bump(v):\n    return v + 1\n", "python")
    assert r1.success, r1.error_message
    assert main_results(r1) == [], "an assignment has no main result"

    r2 = session.code.run("bump(x)", "python")
    assert r2.success, r2.error_message
    assert [m.text for m in main_results(r2)] == ["42"]
    assert r2.result == "42"
    assert r2.request_id


def test_python_last_expression_is_the_main_result(session):
    r = session.code.run("a = 6\nb = 7\nprint('computing')\na * b", "python")
    assert r.success, r.error_message
    mains = main_results(r)
    assert len(mains) == 1 and mains[0].text == "42"
    assert stdout_of(r) == "computing\n"
    assert isinstance(r.execution_time, (int, float)) and r.execution_time >= 0
    # A string's repr, as a REPL shows it.
    r2 = session.code.run("'a' + 'b'", "python")
    assert r2.result == "'ab'"


def test_python_print_goes_to_stdout_only(session):
    r = session.code.run("print('hello world')\nprint('second line')", "python")
    assert r.success, r.error_message
    assert stdout_of(r) == "hello world\nsecond line\n"
    assert main_results(r) == []
    assert r.error is None and r.error_message == ""


def test_python_stderr_is_captured(session):
    r = session.code.run("import sys\nsys.stderr.write('warned\\n')\nsys.stderr.flush()", "python")
    assert r.success, r.error_message
    assert "warned" in stderr_of(r)
    assert "warned" not in stdout_of(r)


def test_python_exception_is_a_failed_result_and_keeps_state(session):
    assert session.code.run("kept = 'still here'", "python").success

    r = session.code.run("print('before')\nraise ValueError('boom')\nprint('after')", "python")
    assert not r.success
    assert "ValueError" in r.error_message and "boom" in r.error_message, r.error_message
    assert r.error is not None
    assert "before" in stdout_of(r)
    assert "after" not in stdout_of(r)

    r2 = session.code.run("1 / 0", "python")
    assert not r2.success
    assert "ZeroDivisionError" in r2.error_message, r2.error_message

    r3 = session.code.run("undefined_name_xyz", "python")
    assert not r3.success
    assert "NameError" in r3.error_message, r3.error_message

    # The kernel survives errors.
    r4 = session.code.run("kept", "python")
    assert r4.success, r4.error_message
    assert r4.result == "'still here'"


def test_python_syntax_error_is_reported(session):
    r = session.code.run("def broken(:\n    pass", "python")
    assert not r.success
    assert "SyntaxError" in r.error_message, r.error_message


def test_python_unicode_round_trip(session):
    r = session.code.run("s = 'héllo 世界 🙂'\nprint(s)\nlen(s)", "python")
    assert r.success, r.error_message
    assert stdout_of(r) == "héllo 世界 🙂\n"
    assert r.result == "10"


def test_python_rich_output_from_repr_methods(session):
    code = (
        "class Page:\n"
        "    def _repr_html_(self):\n"
        "        return '<b>bold</b>'\n"
        "    def __repr__(self):\n"
        "        return 'Page()'\n"
        "Page()"
    )
    r = session.code.run(code, "python")
    assert r.success, r.error_message
    mains = main_results(r)
    assert len(mains) == 1
    assert mains[0].html == "<b>bold</b>"
    assert mains[0].text == "Page()"


def test_python_timeout_is_reported_and_kernel_recovers(session):
    start = time.monotonic()
    r = session.code.run("import time\ntime.sleep(30)", "python", timeout_s=2)
    elapsed = time.monotonic() - start
    assert not r.success
    assert re.search(r"time(d)?[ _-]?out", r.error_message, re.I), r.error_message
    assert elapsed < 15, f"a 2 s timeout took {elapsed:.1f}s"

    r2 = session.code.run("40 + 2", "python")
    assert r2.success, r2.error_message
    assert r2.result == "42"


def test_python_kernels_are_per_session(agb, session):
    from conftest import create_session, release_quietly

    assert session.code.run("only_here = 1", "python").success
    other = create_session(agb)
    try:
        r = other.code.run("only_here", "python")
        assert not r.success
        assert "NameError" in r.error_message
    finally:
        release_quietly(agb, other.session_id)


def test_code_writes_files_visible_to_file_tools(session):
    r = session.code.run("open('/tmp/from_code.txt', 'w').write('written by code')", "python")
    assert r.success, r.error_message
    got = session.file.read("/tmp/from_code.txt")
    assert got.success, got.error_message
    assert got.content == "written by code"


# ------------------------------------------------------------------------- JavaScript


def test_javascript_runs_with_state_and_last_expression(session):
    r = session.code.run("console.log('hi from js'); let counter = 5;", "javascript")
    assert r.success, r.error_message
    assert stdout_of(r) == "hi from js\n"

    r2 = session.code.run("counter * 2", "javascript")
    assert r2.success, r2.error_message
    assert r2.result == "10"

    r3 = session.code.run("function add(a, b) { return a + b }\nadd(40, 2)", "js")
    assert r3.success, r3.error_message
    assert r3.result == "42"


def test_javascript_top_level_const_can_be_redeclared_in_a_later_cell(session):
    assert session.code.run("const limit = 1;", "javascript").success
    r = session.code.run("const limit = 2;\nlimit", "javascript")
    assert r.success, r.error_message
    assert r.result == "2"


def test_javascript_error_is_a_failed_result(session):
    r = session.code.run("console.log('pre');\nthrow new Error('kaboom')", "javascript")
    assert not r.success
    assert "kaboom" in r.error_message, r.error_message
    assert "pre" in stdout_of(r)
    # Kernel survives.
    assert session.code.run("1 + 1", "javascript").result == "2"


# ------------------------------------------------------------------------------- Java

requires_java = pytest.mark.skipif(
    shutil.which("jshell") is None, reason="no JDK (jshell) on this host"
)


@requires_java
def test_java_snippets_run_without_a_class(module_session):
    r = module_session.code.run('System.out.println("Java is supported");', "java", timeout_s=120)
    assert r.success, r.error_message
    assert stdout_of(r) == "Java is supported\n"


@requires_java
def test_java_state_is_kept_and_last_expression_is_the_result(module_session):
    r1 = module_session.code.run(
        "int base = 40;\nint twice(int v) { return v * 2; }", "java", timeout_s=120
    )
    assert r1.success, r1.error_message
    r2 = module_session.code.run("base + twice(1)", "java", timeout_s=120)
    assert r2.success, r2.error_message
    assert r2.result == "42"


@requires_java
def test_java_exception_is_a_failed_result(module_session):
    r = module_session.code.run(
        'throw new IllegalStateException("java boom");', "java", timeout_s=120
    )
    assert not r.success
    assert "java boom" in r.error_message, r.error_message
    assert module_session.code.run("1 + 2", "java", timeout_s=120).result == "3"


# ---------------------------------------------------------------------------------- R

R_UNAVAILABLE = re.compile(r"(unsupported|not available|unavailable|not installed)", re.I)


def test_r_runs_or_is_reported_unavailable(session):
    r = session.code.run("cat('hello from R\\n')\nv <- c(1, 2, 3)", "r")
    if not r.success:
        # The only acceptable failure: a clear "R is not available here".
        assert re.search(r"\bR\b", r.error_message, re.I) and R_UNAVAILABLE.search(r.error_message), (
            f"R failed without a clear 'unavailable' message: {r.error_message!r}"
        )
        pytest.skip(f"R unavailable on this host: {r.error_message}")
    assert stdout_of(r) == "hello from R\n"
    r2 = session.code.run("sum(v)", "r")
    assert r2.success, r2.error_message
    assert "6" in r2.result
