"""Delete semantics, idle release and keep-alive.

Runs against its own `agb serve --dev --reap-interval 1s` so that idle release
with a few seconds of `idle_release_timeout` is observable quickly.
"""

import time

from agb.session import Session

from conftest import create_session, release_quietly, run_with_deadline, unique

IDLE_S = 6  # idle_release_timeout used below (seconds)
GRACE_S = 6  # how late after the timeout a release may happen (reaper runs every 1 s)


def is_gone(session: Session) -> bool:
    """The SDK's own 'session is gone' rule (Session.delete polling)."""
    st = session.get_status()
    if not st.success:
        assert "not found" in st.error_message.lower() or st.code == "InvalidMcpSession.NotFound", (
            f"unexpected status failure: code={st.code!r} message={st.error_message!r}"
        )
        return True
    return st.status in ("FINISH", "DELETED")


def assert_every_call_fails(agb, s: Session):
    """After release: every session-scoped call fails with a message."""
    sid = s.session_id
    checks = {
        "code.run": s.code.run("1 + 1", "python"),
        "code.run(stream)": s.code.run("1 + 1", "python", stream_beta=True),
        "command.execute": s.command.execute("echo hi"),
        "file.write": s.file.write("/tmp/after.txt", "x"),
        "file.read": s.file.read("/tmp/after.txt"),
        "file.list": s.file.list("/tmp"),
        "file.mkdir": s.file.mkdir("/tmp/after"),
        "file.info": s.file.info("/tmp"),
        "get_labels": s.get_labels(),
        "set_labels": s.set_labels({"k": "v"}),
        "keep_alive": s.keep_alive(),
        "info": s.info(),
        "get_metrics": s.get_metrics(),
        "call_mcp_tool": s.call_mcp_tool("shell", {"command": "echo hi"}),
        "get_status": s.get_status(),
    }
    for name, r in checks.items():
        assert not r.success, f"{name} succeeded on released session {sid}"
        assert r.error_message, f"{name} failed without a message"

    # Tool calls carry the server's own message ("Session not found"), not a fallback.
    for name in ("command.execute", "file.write", "call_mcp_tool", "get_status", "keep_alive"):
        msg = checks[name].error_message
        assert "not found" in msg.lower(), f"{name}: {msg!r}"

    got = agb.get(sid)
    assert not got.success
    assert got.error_message.startswith(f"Failed to get session {sid}")
    assert sid not in agb.list(limit=100).session_ids

    # A freshly built Session object for the same id fails too.
    fresh = Session(agb, sid)
    w = fresh.file.write("/tmp/after.txt", "x")
    assert not w.success and w.error_message


def test_delete_releases_the_session_and_every_later_call_fails(reaping_agb):
    agb = reaping_agb
    s = create_session(agb, labels={"lifecycle": unique()})
    assert s.command.execute("echo up").success
    sid = s.session_id

    start = time.monotonic()
    d = run_with_deadline(s.delete, 30, "Session.delete()")
    assert d.success, d.error_message
    assert d.request_id
    assert time.monotonic() - start < 10, "delete should complete within a few status polls"

    assert is_gone(s)
    assert_every_call_fails(agb, s)

    again = run_with_deadline(s.delete, 30, "second Session.delete()")
    assert not again.success, "deleting a released session must fail"
    assert again.error_message
    assert sid in again.error_message or "not found" in again.error_message.lower()


def test_agb_delete_with_the_client(reaping_agb):
    agb = reaping_agb
    s = create_session(agb)
    d = run_with_deadline(lambda: agb.delete(s), 30, "AGB.delete()")
    assert d.success, d.error_message
    assert is_gone(s)


def test_idle_session_is_released_after_its_timeout(reaping_agb):
    agb = reaping_agb
    s = create_session(agb, idle_release_timeout=IDLE_S)
    created = time.monotonic()
    try:
        assert s.command.execute("echo busy").success
        busy_at = time.monotonic()

        # Status polling must not count as activity.
        while time.monotonic() - busy_at < IDLE_S - 2:
            assert not is_gone(s), (
                f"released after {time.monotonic() - busy_at:.1f}s, before its "
                f"{IDLE_S}s idle timeout"
            )
            time.sleep(0.5)

        deadline = busy_at + IDLE_S + GRACE_S
        while not is_gone(s):
            assert time.monotonic() < deadline, (
                f"not released {time.monotonic() - busy_at:.1f}s after the last activity "
                f"(idle_release_timeout={IDLE_S}s, reap interval 1s)"
            )
            time.sleep(0.5)
        assert time.monotonic() - created >= IDLE_S - 1

        assert_every_call_fails(agb, s)
    finally:
        release_quietly(agb, s.session_id)


def test_keep_alive_and_activity_reset_the_idle_timer(reaping_agb):
    agb = reaping_agb
    control = create_session(agb, idle_release_timeout=IDLE_S)
    kept = create_session(agb, idle_release_timeout=IDLE_S)
    busy = create_session(agb, idle_release_timeout=IDLE_S)
    try:
        start = time.monotonic()
        deadline = start + IDLE_S + GRACE_S
        while not is_gone(control):
            assert time.monotonic() < deadline, "control session was never released"
            ka = kept.keep_alive()
            assert ka.success, ka.error_message
            assert ka.request_id
            r = busy.command.execute("true")
            assert r.success, r.error_message
            time.sleep(1)

        # The control session is gone; the refreshed ones are not.
        assert time.monotonic() - start >= IDLE_S - 1
        assert not is_gone(kept), "keep_alive() did not reset the idle timer"
        assert not is_gone(busy), "a tool call did not reset the idle timer"
        assert kept.command.execute("echo still here").stdout == "still here\n"

        # Once the keep-alives stop, the refreshed session expires too.
        stop = time.monotonic()
        while not is_gone(kept):
            assert time.monotonic() - stop < IDLE_S + GRACE_S, "kept session never expired"
            time.sleep(0.5)
    finally:
        for s in (control, kept, busy):
            release_quietly(agb, s.session_id)


def test_keep_alive_on_unknown_session_fails(reaping_agb):
    ghost = Session(reaping_agb, "session-" + unique("ghost"))
    r = ghost.keep_alive()
    assert not r.success
    assert "not found" in r.error_message.lower(), r.error_message


def test_default_idle_timeout_is_not_short(reaping_agb):
    # Without idle_release_timeout the documented default is 5 minutes: a session
    # left alone for a few reaper cycles must still be there.
    s = create_session(reaping_agb)
    try:
        time.sleep(3)
        assert not is_gone(s)
        assert s.command.execute("echo ok").success
    finally:
        release_quietly(reaping_agb, s.session_id)
