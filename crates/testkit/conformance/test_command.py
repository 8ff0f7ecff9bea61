"""`session.command.execute`: exit codes, cwd, env, timeouts."""

import time


def test_echo_succeeds(session):
    r = session.command.execute("echo hello")
    assert r.success, r.error_message
    assert r.request_id
    assert r.exit_code == 0
    assert r.stdout == "hello\n"
    assert r.stderr == ""
    assert r.output == "hello\n"


def test_non_zero_exit_is_reported_with_both_streams(session):
    r = session.command.execute("echo out; echo err >&2; exit 3", timeout_ms=5000)
    assert not r.success
    assert r.exit_code == 3
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"
    assert r.output == "out\nerr\n"


def test_failing_program_reports_its_exit_code_and_stderr(session):
    r = session.command.execute("ls /definitely/not/here", timeout_ms=5000)
    assert not r.success
    assert r.exit_code == 2
    assert "No such file or directory" in r.stderr
    # Either server shape (isError or not) must leave a useful message or stderr.
    assert r.error_message == "" or "No such file" in r.error_message


def test_cwd_applies_to_that_call(session):
    assert session.file.mkdir("/tmp/cmd-cwd/inner").success
    r = session.command.execute("pwd", cwd="/tmp/cmd-cwd/inner")
    assert r.success, r.error_message
    assert r.stdout == "/tmp/cmd-cwd/inner\n"

    r2 = session.command.execute("echo x > here.txt && ls", cwd="/tmp/cmd-cwd")
    assert r2.success, r2.error_message
    assert "here.txt" in r2.stdout.split()
    assert session.file.read("/tmp/cmd-cwd/here.txt").content == "x\n"


def test_missing_cwd_fails_with_a_message(session):
    r = session.command.execute("pwd", cwd="/no/such/dir")
    assert not r.success
    assert r.error_message or r.stderr


def test_envs_apply_to_that_call_only(session):
    r = session.command.execute(
        'echo "$GREETING|$EMPTYISH|$UNICODE"',
        envs={"GREETING": "hello world", "EMPTYISH": "x=y", "UNICODE": "zoë"},
    )
    assert r.success, r.error_message
    assert r.stdout == "hello world|x=y|zoë\n"

    r2 = session.command.execute('echo "${GREETING:-unset}"')
    assert r2.success
    assert r2.stdout == "unset\n"


def test_each_call_is_a_fresh_shell_but_files_persist(session):
    r = session.command.execute("export LEAK=1; cd /tmp; echo kept > /tmp/persist.txt")
    assert r.success, r.error_message
    r2 = session.command.execute('echo "${LEAK:-none}"; cat /tmp/persist.txt')
    assert r2.success
    assert r2.stdout == "none\nkept\n"


def test_timeout_kills_the_command(session):
    start = time.monotonic()
    r = session.command.execute("sleep 20; echo never", timeout_ms=1000)
    elapsed = time.monotonic() - start
    assert not r.success
    assert "never" not in (r.stdout or "")
    assert elapsed < 8, f"a 1 s timeout returned after {elapsed:.1f}s"
    # The session is still usable.
    assert session.command.execute("echo alive").stdout == "alive\n"


def test_background_process_does_not_block_the_call(session):
    start = time.monotonic()
    r = session.command.execute("sleep 30 & echo started", timeout_ms=10000)
    elapsed = time.monotonic() - start
    assert r.success, r.error_message
    assert r.stdout == "started\n"
    assert elapsed < 5, f"`sleep 30 &` held the call for {elapsed:.1f}s"

    start = time.monotonic()
    r2 = session.command.execute("nohup sleep 30 > /dev/null 2>&1 &", timeout_ms=10000)
    assert r2.success, r2.error_message
    assert time.monotonic() - start < 5


def test_commands_do_not_run_as_root(session):
    r = session.command.execute("id -u")
    assert r.success, r.error_message
    assert r.stdout.strip().isdigit()
    assert r.stdout.strip() != "0", "sandboxed commands must not run as uid 0"


def test_large_output_and_non_ascii(session):
    r = session.command.execute("seq 1 5000; printf 'naïve ✓\\n'", timeout_ms=10000)
    assert r.success, r.error_message
    lines = r.stdout.splitlines()
    assert lines[0] == "1" and lines[4999] == "5000"
    assert lines[-1] == "naïve ✓"
