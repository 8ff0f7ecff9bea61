"""API keys: a wrong key is refused; one key cannot see or touch another's sessions.

Runs against its own `agb serve --api-key A --api-key B` (no --dev).
"""

import re

import pytest

from agb.session import Session
from agb.session_params import CreateSessionParams

from conftest import (
    IMAGE_ID,
    TENANT_A,
    TENANT_B,
    client_for,
    create_session,
    release_quietly,
    run_with_deadline,
    unique,
)

AUTH_WORDS = re.compile(r"(api[ _-]?key|auth|unauthori[sz]ed|forbidden|denied|invalid key)", re.I)


@pytest.fixture(scope="module")
def alice(tenancy_server):
    return client_for(tenancy_server.url, TENANT_A)


@pytest.fixture(scope="module")
def bob(tenancy_server):
    return client_for(tenancy_server.url, TENANT_B)


@pytest.fixture
def alice_session(alice):
    s = create_session(alice, labels={"owner": "alice", "shared": "yes"})
    try:
        yield s
    finally:
        release_quietly(alice, s.session_id)


def test_wrong_key_is_refused_with_a_clear_message(tenancy_server):
    mallory = client_for(tenancy_server.url, "akm-not-a-configured-key")
    r = mallory.create(CreateSessionParams(image_id=IMAGE_ID))
    assert not r.success
    assert r.session is None
    assert r.error_message and r.error_message != "Unknow error", (
        "the refusal must carry a message (envelope `message`)"
    )
    assert AUTH_WORDS.search(r.error_message), r.error_message

    lst = mallory.list()
    assert not lst.success
    assert lst.error_message

    got = mallory.get_session("session-whatever")
    assert not got.success
    assert got.error_message


def test_wrong_key_cannot_use_an_existing_session(tenancy_server, alice_session):
    mallory = client_for(tenancy_server.url, "akm-not-a-configured-key")
    s = Session(mallory, alice_session.session_id)
    r = s.command.execute("echo pwned")
    assert not r.success
    assert r.error_message
    assert alice_session.command.execute("echo fine").success


def test_both_configured_keys_work(alice, bob):
    for client in (alice, bob):
        s = create_session(client)
        try:
            r = s.command.execute("echo ok")
            assert r.success, r.error_message
        finally:
            release_quietly(client, s.session_id)


def test_other_key_cannot_see_the_session(alice, bob, alice_session):
    sid = alice_session.session_id

    assert sid in alice.list(limit=100).session_ids
    assert sid not in bob.list(limit=100).session_ids
    assert bob.list(labels={"owner": "alice"}).session_ids == []

    got = bob.get(sid)
    assert not got.success
    # Indistinguishable from an id that never existed.
    missing = "session-" + unique("never")
    never = bob.get(missing)
    assert not never.success
    assert got.error_message.replace(sid, "<id>") == never.error_message.replace(missing, "<id>")

    detail = bob.get_session(sid)
    assert not detail.success


def test_other_key_cannot_touch_the_session(alice, bob, alice_session):
    sid = alice_session.session_id
    assert alice_session.file.write("/tmp/secret.txt", "alice only").success
    assert alice_session.set_labels({"owner": "alice"}).success

    intruder = Session(bob, sid)
    checks = {
        "code.run": intruder.code.run("1 + 1", "python"),
        "command.execute": intruder.command.execute("cat /tmp/secret.txt"),
        "file.read": intruder.file.read("/tmp/secret.txt"),
        "file.write": intruder.file.write("/tmp/secret.txt", "bob was here"),
        "file.remove": intruder.file.remove("/tmp/secret.txt"),
        "set_labels": intruder.set_labels({"owner": "bob"}),
        "get_labels": intruder.get_labels(),
        "keep_alive": intruder.keep_alive(),
        "info": intruder.info(),
        "get_status": intruder.get_status(),
        "get_metrics": intruder.get_metrics(),
    }
    for name, r in checks.items():
        assert not r.success, f"key B could {name} key A's session"
        assert r.error_message, f"{name} refused without a message"
    assert "alice only" not in (checks["command.execute"].stdout or "")

    d = run_with_deadline(intruder.delete, 30, "foreign Session.delete()")
    assert not d.success, "key B deleted key A's session"
    assert d.error_message

    # Alice's session is untouched.
    assert alice_session.file.read("/tmp/secret.txt").content == "alice only"
    assert alice_session.get_labels().data == {"owner": "alice"}
    st = alice_session.get_status()
    assert st.success and st.status == "RUNNING"


def test_same_labels_are_scoped_per_key(alice, bob):
    tag = unique("scope")
    a = create_session(alice, labels={"tag": tag})
    b = create_session(bob, labels={"tag": tag})
    try:
        assert alice.list(labels={"tag": tag}).session_ids == [a.session_id]
        assert bob.list(labels={"tag": tag}).session_ids == [b.session_id]
    finally:
        release_quietly(alice, a.session_id)
        release_quietly(bob, b.session_id)
