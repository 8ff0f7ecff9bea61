"""Fixtures for the official-SDK conformance suite.

The suite drives `agb serve` (this repository's server) with the unmodified
official Python SDK, `agbcloud-sdk==0.12.0`, exactly as a user would: the
client finds the server through `AGB_ENDPOINT` / `AGB_API_KEY`.

Server contract assumed here (see README.md):

* `$AGB_BIN serve --dev --listen 127.0.0.1:0` binds an ephemeral port and
  prints, as its **first stdout line**, exactly
  `agb serve listening on http://127.0.0.1:PORT` (flushed at once).
* `--api-key KEY` (repeatable) replaces `--dev`: only those keys are accepted.
* `--reap-interval 1s` makes the idle reaper run every second.
* SIGTERM stops the server (and its sandboxes) within a few seconds.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import atexit
import os
import queue
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

# Local traffic must never go through a proxy (requests and websockets both
# honour *_proxy variables).
for _var in ("NO_PROXY", "no_proxy"):
    _existing = os.environ.get(_var, "")
    os.environ[_var] = ",".join(x for x in ("127.0.0.1", "localhost", _existing) if x)

# The SDK reads AGB_LOG_LEVEL when `agb` is first imported.
os.environ.setdefault("AGB_LOG_LEVEL", "INFO")
# A stray .env in the working directory must not redirect the suite.
os.environ.pop("AGB_TIMEOUT_MS", None)

from agb import AGB  # noqa: E402
from agb.api.models import DeleteSessionAsyncRequest  # noqa: E402
from agb.config import Config  # noqa: E402
from agb.session import Session  # noqa: E402
from agb.session_params import CreateSessionParams  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
LISTEN_LINE = re.compile(r"^agb serve listening on (http://127\.0\.0\.1:(\d+))$")
STARTUP_TIMEOUT_S = float(os.environ.get("AGB_CONFORMANCE_STARTUP_TIMEOUT", "60"))
STOP_TIMEOUT_S = 15.0

DEV_KEY = "akm-conformance-dev"
IMAGE_ID = "agb-code-space-1"
# Client HTTP timeout (the SDK turns it into whole seconds).
CLIENT_TIMEOUT_MS = 60_000


def agb_binary() -> Path:
    explicit = os.environ.get("AGB_BIN")
    if explicit:
        return Path(explicit).expanduser().resolve()
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else REPO_ROOT / "target"
    if not base.is_absolute():
        base = REPO_ROOT / base
    return base / "debug" / "agb"


class ServerProcess:
    """One running `agb serve`, with its log file."""

    def __init__(self, name: str, args: List[str], log_dir: Path):
        self.name = name
        self.binary = agb_binary()
        if not self.binary.exists():
            pytest.exit(
                f"agb binary not found at {self.binary}; build it with "
                "`cargo build -p agbcloud-cli` or set AGB_BIN",
                returncode=2,
            )
        self.argv = [str(self.binary), "serve", *args]
        self.log_path = log_dir / f"agb-serve-{name}.log"
        self._log = open(self.log_path, "w", buffering=1, encoding="utf-8", errors="replace")
        self._log.write(f"$ {' '.join(self.argv)}\n")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=str(REPO_ROOT),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        self.url = self._wait_for_listen_line()

    def _wait_for_listen_line(self) -> str:
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            first = True
            for line in self.proc.stdout:
                if first:
                    lines.put(line)
                    first = False
                self._log.write(f"[stdout] {line}")
            if first:
                lines.put(None)

        threading.Thread(target=pump, name=f"agb-serve-{self.name}-stdout", daemon=True).start()
        try:
            first = lines.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            raise RuntimeError(
                f"`{' '.join(self.argv)}` printed nothing on stdout within "
                f"{STARTUP_TIMEOUT_S:.0f}s; log: {self.log_path}\n{self.log_tail()}"
            )
        if first is None:
            code = self.proc.wait(timeout=10)
            raise RuntimeError(
                f"`{' '.join(self.argv)}` exited with {code} before printing its address; "
                f"log: {self.log_path}\n{self.log_tail()}"
            )
        m = LISTEN_LINE.match(first.rstrip("\r\n"))
        if not m:
            self.kill()
            raise RuntimeError(
                "first stdout line of `agb serve` must be exactly "
                f"'agb serve listening on http://127.0.0.1:PORT', got {first!r}"
            )
        if int(m.group(2)) == 0:
            self.kill()
            raise RuntimeError(f"agb serve reported port 0: {first!r}")
        return m.group(1)

    def log_tail(self, n: int = 40) -> str:
        try:
            self._log.flush()
            return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-n:])
        except OSError:
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then wait; a server that ignores SIGTERM is an error."""
        if self.proc.poll() is not None:
            code = self.proc.returncode
            self._log.close()
            raise AssertionError(
                f"agb serve ({self.name}) died during the tests with status {code}; "
                f"log: {self.log_path}"
            )
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            self._log.close()
            raise AssertionError(
                f"agb serve ({self.name}) did not exit within {STOP_TIMEOUT_S:.0f}s of SIGTERM "
                "(open sessions and WebSocket connections must not block shutdown); "
                f"log: {self.log_path}"
            )
        finally:
            if not self._log.closed:
                self._log.close()


_started: List[ServerProcess] = []


@atexit.register
def _kill_leftover_servers() -> None:
    # Normally each fixture stops its server; this only covers an aborted run.
    for srv in _started:
        try:
            srv.kill()
        except Exception:
            pass


def start_server(name: str, args: List[str], tmp_path_factory) -> ServerProcess:
    log_dir = Path(os.environ.get("AGB_CONFORMANCE_LOG_DIR") or tmp_path_factory.mktemp("agb-logs"))
    log_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(name, args, log_dir)
    _started.append(server)
    return server


def client_for(url: str, api_key: str) -> AGB:
    """A client bound to `url` through an explicit Config (for secondary servers)."""
    return AGB(api_key=api_key, cfg=Config(endpoint=url, timeout_ms=CLIENT_TIMEOUT_MS))


def release_quietly(client: AGB, session_id: str) -> None:
    """Fixture teardown: one releaseSessionAsync call, no status polling, never raises."""
    try:
        client.client.delete_session_async(
            DeleteSessionAsyncRequest(authorization=f"Bearer {client.api_key}", session_id=session_id)
        )
    except Exception:
        pass


def create_session(client: AGB, **params) -> Session:
    params.setdefault("image_id", IMAGE_ID)
    result = client.create(CreateSessionParams(**params))
    assert result.success, f"create failed: {result.error_message!r}"
    assert result.session is not None and result.session.session_id
    return result.session


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_until(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run_with_deadline(fn, timeout: float, what: str):
    """Run a blocking SDK call that may poll for minutes on a broken server."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            box["error"] = e

    t = threading.Thread(target=target, name=f"deadline-{what}", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"{what} did not return within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """The shared `agb serve --dev` instance; exports AGB_ENDPOINT / AGB_API_KEY."""
    srv = start_server("dev", ["--dev", "--listen", "127.0.0.1:0"], tmp_path_factory)
    saved = {k: os.environ.get(k) for k in ("AGB_ENDPOINT", "AGB_API_KEY")}
    os.environ["AGB_ENDPOINT"] = srv.url
    os.environ["AGB_API_KEY"] = DEV_KEY
    try:
        yield srv
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        srv.stop()


@pytest.fixture(scope="session")
def agb(server) -> AGB:
    """An official-SDK client configured only through the environment."""
    client = AGB()
    assert client.endpoint == server.url
    return client


@pytest.fixture
def session(agb) -> Iterator[Session]:
    """A fresh session on the dev server; released at teardown."""
    s = create_session(agb)
    try:
        yield s
    finally:
        release_quietly(agb, s.session_id)


@pytest.fixture(scope="module")
def module_session(agb) -> Iterator[Session]:
    """One session shared by a module (amortises kernel start-up, e.g. the JVM)."""
    s = create_session(agb)
    try:
        yield s
    finally:
        release_quietly(agb, s.session_id)


@pytest.fixture(scope="module")
def reaping_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """`agb serve --dev` with a 1 s idle reaper, for idle-release tests."""
    srv = start_server(
        "reaper", ["--dev", "--listen", "127.0.0.1:0", "--reap-interval", "1s"], tmp_path_factory
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def reaping_agb(reaping_server) -> AGB:
    return client_for(reaping_server.url, DEV_KEY)


TENANT_A = "akm-tenant-alpha"
TENANT_B = "akm-tenant-beta"


@pytest.fixture(scope="module")
def tenancy_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """`agb serve` accepting exactly two API keys (no --dev)."""
    srv = start_server(
        "tenancy",
        ["--api-key", TENANT_A, "--api-key", TENANT_B, "--listen", "127.0.0.1:0"],
        tmp_path_factory,
    )
    try:
        yield srv
    finally:
        srv.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _started:
        terminalreporter.write_line(
            "agb serve logs: " + ", ".join(str(s.log_path) for s in _started)
        )
