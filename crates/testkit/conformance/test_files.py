"""`session.file`: write/read (text, large, binary, multi-byte across chunk
boundaries), list, mkdir, move, remove, search, edit, info, read_batch and
file-change events."""

import threading
import time

import pytest

CHUNK = 51200  # the SDK's read/write chunk size (bytes for read, characters for write)


@pytest.fixture
def base(session, request):
    d = f"/tmp/conformance/{request.node.name}"
    r = session.file.mkdir(d)
    assert r.success, r.error_message
    return d


def test_short_text_round_trip(session, base):
    path = f"{base}/short.txt"
    w = session.file.write(path, "hello\nworld\n")
    assert w.success, w.error_message
    assert w.request_id
    r = session.file.read(path)
    assert r.success, r.error_message
    assert r.request_id
    assert r.content == "hello\nworld\n"


def test_overwrite_and_append(session, base):
    path = f"{base}/modes.txt"
    assert session.file.write(path, "first").success
    assert session.file.write(path, "second").success
    assert session.file.read(path).content == "second"
    assert session.file.write(path, " + more", mode="append").success
    assert session.file.read(path).content == "second + more"
    # append creates a missing file
    assert session.file.write(f"{base}/fresh.txt", "new", mode="append").success
    assert session.file.read(f"{base}/fresh.txt").content == "new"


def test_empty_file(session, base):
    path = f"{base}/empty.txt"
    assert session.file.write(path, "something").success
    assert session.file.write(path, "").success, "overwrite with empty content must truncate"
    info = session.file.info(path)
    assert info.success and info.file_info["size"] == 0
    r = session.file.read(path)
    assert r.success and r.content == ""


def test_write_creates_missing_parent_directories(session, base):
    path = f"{base}/a/b/c/deep.txt"
    w = session.file.write(path, "deep")
    assert w.success, w.error_message
    assert session.file.read(path).content == "deep"


def test_70kb_text_round_trip(session, base):
    path = f"{base}/big.txt"
    line = "0123456789abcdefghijklmnopqrstuvwxyz-line-of-text\n"  # 50 chars
    content = (line * 1400)[:70_000]
    assert len(content.encode()) == 70_000
    w = session.file.write(path, content)
    assert w.success, w.error_message
    info = session.file.info(path)
    assert info.success, info.error_message
    assert info.file_info["size"] == 70_000
    r = session.file.read(path)
    assert r.success, r.error_message
    assert len(r.content) == 70_000
    assert r.content == content


def multibyte_text_straddling_boundaries() -> str:
    # "€" (3 bytes) occupies bytes 51199..51201; "🙂" (4 bytes) occupies
    # 102398..102401: both straddle a 51,200-byte read-chunk boundary.
    s = "a" * (CHUNK - 1) + "€"
    s += "b" * (2 * CHUNK - 2 - len(s.encode()))
    s += "🙂"
    s += "日本語のテキスト、ß and ä. " * 1500
    return s


def test_non_ascii_over_100kb_with_chars_straddling_chunk_boundaries(session, base):
    content = multibyte_text_straddling_boundaries()
    raw = content.encode()
    assert len(raw) > 100 * 1024
    for boundary in (CHUNK, 2 * CHUNK):
        assert raw[boundary] & 0xC0 == 0x80, "test data must split a character at the boundary"

    path = f"{base}/unicode.txt"
    w = session.file.write(path, content)
    assert w.success, w.error_message
    info = session.file.info(path)
    assert info.success, info.error_message
    assert info.file_info["size"] == len(raw), "size must be in bytes"
    r = session.file.read(path)
    assert r.success, r.error_message
    assert len(r.content) == len(content)
    assert r.content == content

    # Same bytes seen from inside the sandbox.
    c = session.command.execute(f"wc -c < {path}; sha256sum {path}", timeout_ms=5000)
    assert c.success, c.error_message
    import hashlib

    size_line, sum_line = c.stdout.splitlines()
    assert int(size_line.strip()) == len(raw)
    assert sum_line.split()[0] == hashlib.sha256(raw).hexdigest()


def test_binary_bytes_round_trip(session, base):
    path = f"{base}/blob.bin"
    expected = bytes(range(256)) * 300  # 76,800 bytes: two read chunks, invalid UTF-8
    code = f"open({path!r}, 'wb').write(bytes(range(256)) * 300)"
    r = session.code.run(code, "python")
    assert r.success, r.error_message

    info = session.file.info(path)
    assert info.success, info.error_message
    assert info.file_info["size"] == len(expected)
    got = session.file.read(path, format="bytes")
    assert got.success, got.error_message
    assert isinstance(got.content, bytes)
    assert got.content == expected
    assert got.size == len(expected)


def test_text_written_by_file_tools_is_seen_by_commands(session, base):
    path = f"{base}/shared.txt"
    assert session.file.write(path, "from the file API\n").success
    c = session.command.execute(f"cat {path}")
    assert c.success, c.error_message
    assert c.stdout == "from the file API\n"


def test_home_user_is_writable(session):
    path = "/home/user/conformance-home.txt"
    w = session.file.write(path, "home")
    assert w.success, w.error_message
    assert session.file.read(path).content == "home"


def test_unicode_and_space_in_file_names(session, base):
    path = f"{base}/ünïcødé name.txt"
    assert session.file.write(path, "named").success
    assert session.file.read(path).content == "named"
    names = {e["name"] for e in session.file.list(base).entries}
    assert "ünïcødé name.txt" in names


def test_mkdir_is_recursive_and_idempotent(session, base):
    d = f"{base}/x/y/z"
    r = session.file.mkdir(d)
    assert r.success, r.error_message
    assert r.request_id
    again = session.file.mkdir(d)
    assert again.success, again.error_message
    info = session.file.info(d)
    assert info.success and info.file_info["isDirectory"] is True


def test_list_directory(session, base):
    assert session.file.write(f"{base}/a.txt", "a").success
    assert session.file.write(f"{base}/b.txt", "b").success
    assert session.file.mkdir(f"{base}/sub").success
    r = session.file.list(base)
    assert r.success, r.error_message
    assert r.request_id
    entries = {e["name"]: e["isDirectory"] for e in r.entries}
    assert entries == {"a.txt": False, "b.txt": False, "sub": True}

    empty = session.file.list(f"{base}/sub")
    assert empty.success and empty.entries == []

    missing = session.file.list(f"{base}/nope")
    assert not missing.success
    assert missing.error_message


def test_info_of_file_directory_and_missing_path(session, base):
    path = f"{base}/info.txt"
    assert session.file.write(path, "12345").success
    f = session.file.info(path)
    assert f.success, f.error_message
    assert f.file_info["size"] == 5
    assert f.file_info["isDirectory"] is False

    d = session.file.info(base)
    assert d.success, d.error_message
    assert d.file_info["isDirectory"] is True

    m = session.file.info(f"{base}/missing.txt")
    assert not m.success
    assert m.error_message

    # The SDK refuses to read a directory based on isDirectory.
    rd = session.file.read(base)
    assert not rd.success
    assert "is a directory" in rd.error_message


def test_read_missing_file_fails_with_a_message(session, base):
    r = session.file.read(f"{base}/does-not-exist.txt")
    assert not r.success
    assert r.error_message


def test_move(session, base):
    src, dst = f"{base}/src.txt", f"{base}/moved/dst.txt"
    assert session.file.write(src, "moving").success
    assert session.file.mkdir(f"{base}/moved").success
    m = session.file.move(src, dst)
    assert m.success, m.error_message
    assert session.file.read(dst).content == "moving"
    assert not session.file.info(src).success

    bad = session.file.move(f"{base}/ghost.txt", f"{base}/ghost2.txt")
    assert not bad.success
    assert bad.error_message


def test_remove(session, base):
    path = f"{base}/doomed.txt"
    assert session.file.write(path, "bye").success
    r = session.file.remove(path)
    assert r.success, r.error_message
    gone = session.file.info(path)
    assert not gone.success
    assert gone.error_message
    assert not session.file.read(path).success

    again = session.file.remove(path)
    assert not again.success
    assert again.error_message


def test_search(session, base):
    for rel in ("a.txt", "b.txt", "c.log", "sub/d.txt", "sub/deeper/e.txt"):
        assert session.file.write(f"{base}/{rel}", rel).success
    r = session.file.search(base, "*.txt")
    assert r.success, r.error_message
    assert sorted(r.matches) == sorted(
        f"{base}/{rel}" for rel in ("a.txt", "b.txt", "sub/d.txt", "sub/deeper/e.txt")
    )

    ex = session.file.search(base, "*.txt", exclude_patterns=["b.*"])
    assert ex.success, ex.error_message
    assert f"{base}/b.txt" not in ex.matches
    assert f"{base}/a.txt" in ex.matches

    ex_dir = session.file.search(base, "*.txt", exclude_patterns=["sub"])
    assert ex_dir.success, ex_dir.error_message
    assert sorted(ex_dir.matches) == sorted([f"{base}/a.txt", f"{base}/b.txt"])

    none = session.file.search(base, "*.nothing")
    assert none.success, none.error_message
    assert none.matches == []


def test_edit(session, base):
    path = f"{base}/edit.txt"
    assert session.file.write(path, "hello world\nsecond line\n").success

    e = session.file.edit(path, [{"oldText": "world", "newText": "there"}])
    assert e.success, e.error_message
    assert session.file.read(path).content == "hello there\nsecond line\n"

    multi = session.file.edit(
        path,
        [
            {"oldText": "hello", "newText": "goodbye"},
            {"oldText": "second line\n", "newText": "second line\nthird line ✓\n"},
        ],
    )
    assert multi.success, multi.error_message
    assert session.file.read(path).content == "goodbye there\nsecond line\nthird line ✓\n"

    dry = session.file.edit(path, [{"oldText": "goodbye", "newText": "XX"}], dry_run=True)
    assert dry.success, dry.error_message
    assert session.file.read(path).content.startswith("goodbye"), "dry run must not write"

    bad = session.file.edit(path, [{"oldText": "not present", "newText": "x"}])
    assert not bad.success
    assert bad.error_message
    assert session.file.read(path).content == "goodbye there\nsecond line\nthird line ✓\n"


def test_read_batch(session, base):
    files = {
        f"{base}/one.txt": "alpha",
        f"{base}/two.txt": "beta\nwith two lines",
        f"{base}/three.txt": "gamma ✓",
    }
    for p, c in files.items():
        assert session.file.write(p, c).success
    r = session.file.read_batch(list(files))
    assert r.success, r.error_message
    assert r.request_id
    assert {p: c.rstrip() for p, c in r.contents.items()} == files


# --------------------------------------------------------------------- change events


def collect_events(session, path, want, timeout=5.0):
    """Poll get_file_change until `want(events)` holds; returns all events seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        r = session.file._get_file_change(path)
        assert r.success, r.error_message
        seen.extend(r.events)
        if want(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_file_change_events(session, base):
    watched = f"{base}/watched"
    assert session.file.mkdir(watched).success
    first = session.file._get_file_change(watched)  # baseline
    assert first.success, first.error_message

    target = f"{watched}/a.txt"
    assert session.file.write(target, "v1").success
    ev = collect_events(session, watched, lambda es: any(e.path == target for e in es))
    assert any(e.path == target and e.event_type in ("create", "modify") for e in ev), ev
    assert all(e.path_type in ("file", "directory") for e in ev), ev

    assert session.file.write(target, "v2").success
    ev = collect_events(
        session, watched, lambda es: any(e.path == target and e.event_type == "modify" for e in es)
    )
    assert any(e.path == target and e.event_type == "modify" and e.path_type == "file" for e in ev), ev

    # Nothing changed since the previous call: no events.
    time.sleep(0.3)
    quiet = session.file._get_file_change(watched)
    assert quiet.success and quiet.events == [], quiet.events

    assert session.file.remove(target).success
    ev = collect_events(
        session, watched, lambda es: any(e.path == target and e.event_type == "delete" for e in es)
    )
    assert any(e.path == target and e.event_type == "delete" for e in ev), ev


def test_watch_dir_calls_back_on_changes(session, base):
    watched = f"{base}/watch"
    assert session.file.mkdir(watched).success
    got = []
    hit = threading.Event()
    target = f"{watched}/w.txt"

    def callback(events):
        got.extend(events)
        if any(e.path == target for e in events):
            hit.set()

    thread = session.file.watch_dir(watched, callback, interval=0.3)
    thread.start()
    try:
        assert thread.ready_event.wait(10), "watch_dir never established its baseline"
        assert session.file.write(target, "changed").success
        assert hit.wait(10), f"no event for {target}; got {got}"
    finally:
        thread.stop_event.set()
        thread.join(5)
