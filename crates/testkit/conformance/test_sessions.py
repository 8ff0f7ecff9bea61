"""Session creation, lookup and metadata through the official SDK."""

import json
import threading

import pytest

from agb import AGB
from agb.session import Session
from agb.session_params import CreateSessionParams

from conftest import IMAGE_ID, client_for, create_session, release_quietly, unique

# Every tool the 0.12.0 SDK calls for code, command, file and metrics work.
SDK_TOOLS = {
    "shell",
    "run_code",
    "create_directory",
    "edit_file",
    "get_file_info",
    "list_directory",
    "move_file",
    "delete_file",
    "read_file",
    "write_file",
    "read_multiple_files",
    "search_files",
    "get_file_change",
    "get_metrics",
}


def test_create_with_labels_returns_a_usable_session(agb):
    labels = {"suite": unique("conf"), "team": "ml ops"}
    result = agb.create(CreateSessionParams(image_id=IMAGE_ID, labels=labels))
    assert result.success, result.error_message
    session = result.session
    try:
        assert result.request_id, "create must return a request id"
        assert session.session_id
        assert session.app_instance_id, "appInstanceId must be non-empty"
        assert session.resource_id, "resourceId must be non-empty"
        assert session.ws_url.startswith("ws://127.0.0.1:"), session.ws_url
        assert session.token, "token (for the WebSocket) must be non-empty"
        assert session.image_id == IMAGE_ID

        got = session.get_labels()
        assert got.success, got.error_message
        assert got.data == labels

        echo = session.command.execute("echo created")
        assert echo.success, echo.error_message
        assert echo.stdout == "created\n"
    finally:
        release_quietly(agb, session.session_id)


@pytest.mark.parametrize(
    "image_id",
    ["agb-code-space-1", "agb-code-space-2", "agb-browser-use-1", "agb-computer-use-ubuntu-2204"],
)
def test_every_official_image_id_gives_a_working_sandbox(agb, image_id):
    session = create_session(agb, image_id=image_id)
    try:
        r = session.command.execute("echo $((6 * 7))")
        assert r.success, r.error_message
        assert r.stdout.strip() == "42"
    finally:
        release_quietly(agb, session.session_id)


def test_dev_mode_accepts_any_api_key(server):
    other = client_for(server.url, "any-key-" + unique())
    session = create_session(other)
    try:
        assert session.command.execute("true").success
    finally:
        release_quietly(other, session.session_id)


def test_get_rebuilds_a_usable_session(agb, session):
    got = agb.get(session.session_id)
    assert got.success, got.error_message
    assert got.request_id
    s2 = got.session
    assert s2.session_id == session.session_id
    assert "resourceId=" in s2.resource_url, s2.resource_url
    assert s2.app_instance_id and s2.resource_id
    assert s2.ws_url and s2.token

    # The rebuilt object works on the same sandbox.
    assert session.file.write("/tmp/get-check.txt", "same sandbox").success
    r = s2.file.read("/tmp/get-check.txt")
    assert r.success, r.error_message
    assert r.content == "same sandbox"


def test_get_session_reports_status_and_ids(agb, session):
    r = agb.get_session(session.session_id)
    assert r.success, r.error_message
    assert r.request_id
    assert r.http_status_code == 200
    assert r.code in ("ok", "")
    assert r.data.session_id == session.session_id
    assert r.data.status == "RUNNING"
    assert r.data.app_instance_id and r.data.resource_id
    assert "resourceId=" in r.data.resource_url


def test_get_unknown_session_fails_with_the_server_message(agb):
    missing = "session-" + unique("missing")
    r = agb.get(missing)
    assert not r.success
    assert r.session is None
    assert r.error_message.startswith(f"Failed to get session {missing}: ")
    # "Unknown error" means the server sent an empty `message`.
    assert "Unknown error" not in r.error_message, r.error_message
    assert "not found" in r.error_message.lower(), r.error_message


def test_status_info_and_link_free_calls(session):
    st = session.get_status()
    assert st.success, st.error_message
    assert st.request_id
    assert st.status == "RUNNING"

    info = session.info()
    assert info.success, info.error_message
    assert info.request_id
    assert info.data["session_id"] == session.session_id
    assert info.data["resource_url"]


def test_list_mcp_tools_covers_every_tool_the_sdk_calls(session):
    r = session.list_mcp_tools()
    assert r.success, r.error_message
    assert r.request_id
    names = {t.name for t in r.tools}
    missing = SDK_TOOLS - names
    assert not missing, f"listTools lacks {sorted(missing)}"
    run_code = next(t for t in r.tools if t.name == "run_code")
    assert run_code.description
    assert isinstance(run_code.input_schema, dict) and run_code.input_schema.get("type") == "object"


def test_call_mcp_tool_directly(session):
    # No timeout_ms: the server must pick a default.
    r = session.call_mcp_tool("shell", {"command": "echo direct"})
    assert r.success, r.error_message
    assert r.request_id
    payload = json.loads(r.data)
    assert payload["stdout"] == "direct\n"
    assert payload["exit_code"] == 0


def test_unknown_tool_fails_with_a_message(session):
    r = session.call_mcp_tool("no_such_tool_xyz", {})
    assert not r.success
    assert r.error_message and r.error_message != "Tool execution failed"
    assert "no_such_tool_xyz" in r.error_message


def test_concurrent_creates_give_distinct_working_sessions(agb):
    results = [None] * 3

    def worker(i: int) -> None:
        results[i] = agb.create(CreateSessionParams(image_id=IMAGE_ID))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert all(r is not None and r.success for r in results), [
            r and r.error_message for r in results
        ]
        ids = {r.session.session_id for r in results}
        assert len(ids) == 3
        for i, r in enumerate(results):
            assert r.session.file.write(f"/tmp/mine.txt", f"session {i}").success
        for i, r in enumerate(results):
            got = r.session.file.read("/tmp/mine.txt")
            assert got.content == f"session {i}", "sessions must not share /tmp"
    finally:
        for r in results:
            if r is not None and r.success:
                release_quietly(agb, r.session.session_id)


def test_a_session_object_built_from_an_id_works(agb, session):
    # Users persist ids and rebuild sessions (docs: recovery.md).
    rebuilt = Session(agb, session.session_id)
    r = rebuilt.command.execute("echo rebuilt")
    assert r.success, r.error_message
    assert r.stdout == "rebuilt\n"


def test_client_configured_by_environment(server, monkeypatch):
    monkeypatch.setenv("AGB_ENDPOINT", server.url)
    monkeypatch.setenv("AGB_API_KEY", "env-key-" + unique())
    client = AGB()
    assert client.endpoint == server.url
    session = create_session(client)
    release_quietly(client, session.session_id)
