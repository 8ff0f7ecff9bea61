"""Labels (create-time, set, get) and `agb.list` with label filters and pages."""

import pytest

from conftest import create_session, release_quietly, unique


@pytest.fixture
def labelled(agb):
    """Three sessions sharing a unique `run` label; two are `env=dev`."""
    run = unique("run")
    specs = [
        {"run": run, "env": "dev", "idx": "0"},
        {"run": run, "env": "dev", "idx": "1"},
        {"run": run, "env": "prod", "idx": "2"},
    ]
    sessions = []
    try:
        for labels in specs:
            sessions.append(create_session(agb, labels=labels))
        yield run, sessions
    finally:
        for s in sessions:
            release_quietly(agb, s.session_id)


def test_create_time_labels_are_returned(agb):
    labels = {"project": "conformance", "owner": "zoë", "note": "with spaces & symbols: {}=+"}
    s = create_session(agb, labels=labels)
    try:
        got = s.get_labels()
        assert got.success, got.error_message
        assert got.request_id
        assert got.data == labels
    finally:
        release_quietly(agb, s.session_id)


def test_session_without_labels_has_none(session):
    got = session.get_labels()
    assert got.success, got.error_message
    assert got.data == {}


def test_set_labels_replaces_the_whole_set(session):
    first = session.set_labels({"a": "1", "b": "2"})
    assert first.success, first.error_message
    assert first.request_id
    assert session.get_labels().data == {"a": "1", "b": "2"}

    second = session.set_labels({"c": "3", "b": "two"})
    assert second.success, second.error_message
    assert session.get_labels().data == {"c": "3", "b": "two"}


def test_list_filters_by_labels(agb, labelled):
    run, sessions = labelled
    ids = [s.session_id for s in sessions]

    by_run = agb.list(labels={"run": run}, limit=50)
    assert by_run.success, by_run.error_message
    assert by_run.request_id
    assert sorted(by_run.session_ids) == sorted(ids)
    assert by_run.total_count == 3

    dev = agb.list(labels={"run": run, "env": "dev"}, limit=50)
    assert dev.success, dev.error_message
    assert sorted(dev.session_ids) == sorted(ids[:2])
    assert dev.total_count == 2

    one = agb.list(labels={"run": run, "idx": "2"})
    assert one.session_ids == [ids[2]]

    none = agb.list(labels={"run": run, "env": "staging"})
    assert none.success, none.error_message
    assert none.session_ids == []
    assert none.total_count == 0
    assert not none.next_token


def test_list_without_filter_includes_our_sessions(agb, labelled):
    _, sessions = labelled
    everything = agb.list(limit=100)
    assert everything.success, everything.error_message
    assert {s.session_id for s in sessions} <= set(everything.session_ids)
    assert everything.total_count >= 3


def test_list_pagination(agb, labelled):
    run, sessions = labelled
    ids = {s.session_id for s in sessions}

    p1 = agb.list(labels={"run": run}, page=1, limit=2)
    assert p1.success, p1.error_message
    assert len(p1.session_ids) == 2
    assert p1.next_token, "a further page exists, so nextToken must be set"
    assert p1.max_results == 2
    assert p1.total_count == 3

    p2 = agb.list(labels={"run": run}, page=2, limit=2)
    assert p2.success, p2.error_message
    assert len(p2.session_ids) == 1
    assert not p2.next_token, "the last page must have an empty nextToken"
    assert p2.total_count == 3

    assert set(p1.session_ids) | set(p2.session_ids) == ids
    assert not set(p1.session_ids) & set(p2.session_ids)

    p3 = agb.list(labels={"run": run}, page=3, limit=2)
    assert not p3.success
    assert "Cannot reach page 3" in p3.error_message

    # Exactly one full page: no further token.
    full = agb.list(labels={"run": run}, limit=3)
    assert len(full.session_ids) == 3
    assert not full.next_token


def test_relabelled_session_moves_between_filters(agb, session):
    old, new = unique("old"), unique("new")
    assert session.set_labels({"tag": old}).success
    assert agb.list(labels={"tag": old}).session_ids == [session.session_id]

    assert session.set_labels({"tag": new}).success
    assert agb.list(labels={"tag": old}).session_ids == []
    assert agb.list(labels={"tag": new}).session_ids == [session.session_id]
