# agbcloud-sandbox Python kernel driver.
#
# Run by `python_bootstrap.py` (with `python3 -c`), one "# --- " section at a time; speaks
# length-prefixed JSON frames (4-byte big-endian length + UTF-8 JSON) over its original
# stdin/stdout, which it moves to private fds at start-up.
# fd 0 becomes /dev/null; fds 1 and 2 become pipes drained by a reader thread, so output of
# child processes is captured and streamed too.
#
# Requests:  {"type": "execute", "code": str}
# Messages:  {"type": "ready", "pid": int}
#            {"type": "stream", "name": "stdout"|"stderr", "text": str}
#            {"type": "result", "data": {mime: value}, "main": bool}
#            {"type": "done", "error": null | {"name", "value", "traceback"}}


# Only modules that are built in or already loaded at start-up, to keep an idle kernel
# small (`json`, `threading`, `signal` and `ast` would pull in `re`, `enum` and more).
import _ast
import _json
import _signal
import _thread
import builtins
import codecs
import io
import os
import select
import sys
import time

# --- protocol and capture fds -------------------------------------------------------
pin = os.dup(0)
pout = os.dup(1)
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)
os.close(null)
r_out, w_out = os.pipe()
r_err, w_err = os.pipe()
os.dup2(w_out, 1)
os.dup2(w_err, 2)
os.close(w_out)
os.close(w_err)
os.set_blocking(r_out, False)
os.set_blocking(r_err, False)
fd_stream = {r_out: "stdout", r_err: "stderr"}

lock = _thread.RLock()
chunk_limit = 1 << 16
max_frame = 48 << 20

# JSON through the C accelerators of the `json` package, without importing it.
encoder = _json.make_encoder(None, repr, _json.encode_basestring, None, ":", ",", False, False, False)

class JsonContext:
    strict = False
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = None
    memo = {}

scanner = _json.make_scanner(JsonContext)

def loads(text):
    return scanner(text, 0)[0]

def finite(obj):
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj

def dumps(obj):
    try:
        return "".join(encoder(obj, 0))
    except (ValueError, TypeError, RecursionError):
        return "".join(encoder(finite(obj), 0))

def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

def send(obj):
    if St.child:
        return  # only the driver process speaks the protocol
    data = dumps(obj).encode("utf-8", "replace")
    if len(data) > max_frame:  # the host refuses frames over 64 MiB
        note = "[%s output of %d bytes dropped: too large]" % (obj.get("type"), len(data))
        if obj.get("type") == "done":
            obj = {"type": "done", "error": {"name": "OutputTooLarge", "value": note, "traceback": ""}}
        else:
            obj = {"type": "stream", "name": "stderr", "text": note + "\n"}
        data = dumps(obj).encode("utf-8", "replace")
    msg = len(data).to_bytes(4, "big") + data
    with lock:
        write_all(pout, msg)

class St:
    user = False  # True while user code runs: SIGINT raises KeyboardInterrupt
    pending = False  # SIGINT arrived while deferred
    child = False  # in a process forked by user code

def on_sigint(signum, frame):
    if St.user:
        raise KeyboardInterrupt
    St.pending = True

_signal.signal(_signal.SIGINT, on_sigint)

def deferred(fn, *args):
    """Run driver code with KeyboardInterrupt deferred, so frames are never cut."""
    prev = St.user
    St.user = False
    try:
        return fn(*args)
    finally:
        St.user = prev
        if prev and St.pending:
            St.pending = False
            raise KeyboardInterrupt

# --- output capture -----------------------------------------------------------------
fd_poll = select.poll()
fd_poll.register(r_out, select.POLLIN)
fd_poll.register(r_err, select.POLLIN)
decoders = {
    r_out: codecs.getincrementaldecoder("utf-8")("replace"),
    r_err: codecs.getincrementaldecoder("utf-8")("replace"),
}

def send_text(name, text):
    for i in range(0, len(text), chunk_limit):
        send({"type": "stream", "name": name, "text": text[i:i + chunk_limit]})

def drain_fds(final=False):
    # caller holds `lock`
    while fd_poll.poll(0):
        got = False
        for fd in (r_out, r_err):
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if data:
                got = True
                text = decoders[fd].decode(data)
                if text:
                    send_text(fd_stream[fd], text)
        if not got:
            break
    if final:
        for fd in (r_out, r_err):
            text = decoders[fd].decode(b"", True)
            decoders[fd].reset()
            if text:
                send_text(fd_stream[fd], text)

def fd_reader():
    poller = select.poll()
    poller.register(r_out, select.POLLIN)
    poller.register(r_err, select.POLLIN)
    while True:
        poller.poll()
        with lock:
            drain_fds()

# --- sys.stdout and sys.stderr ---
class Out(io.TextIOBase):
    """sys.stdout / sys.stderr: line-buffered, sent as stream frames."""

    def __init__(self, name, fd):
        self._name = name
        self._fd = fd
        self._buf = []
        self._last = 0.0
        self.other = None

    encoding = "utf-8"
    errors = "replace"
    newlines = None

    @property
    def name(self):
        return "<%s>" % self._name

    @property
    def buffer(self):
        return _BinaryOut(self)

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if not s:
            return 0
        other = self.other
        if other is not None and other._buf:
            other.flush()
        self._buf.append(s)
        if "\n" in s:
            now = time.monotonic()
            if now - self._last >= 0.002:
                self.flush()
            else:
                arm()
        else:
            arm()
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def _flush(self):
        if St.child:  # forked by user code: plain writes, captured by the driver
            text = "".join(self._buf)
            self._buf.clear()
            if text:
                write_all(self._fd, text.encode("utf-8", "replace"))
            return
        with lock:
            drain_fds()
            if self._buf:
                text = "".join(self._buf)
                self._buf.clear()
                self._last = time.monotonic()
                send_text(self._name, text)

    def flush(self):
        deferred(self._flush)

class _BinaryOut(io.RawIOBase):
    def __init__(self, out):
        self._out = out

    def writable(self):
        return True

    def write(self, b):
        self._out.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def flush(self):
        self._out.flush()

out = Out("stdout", 1)
err = Out("stderr", 2)
out.other = err
err.other = out
sys.stdout = sys.__stdout__ = out
sys.stderr = sys.__stderr__ = err
sys.stdin = sys.__stdin__ = open(os.devnull, "r")

# --- partial-line flusher, fork safety ---
# A partial line is flushed by this thread 10 ms after it was written.
wake = _thread.allocate_lock()
wake.acquire()
armed = [False]

def arm():
    if not armed[0]:
        armed[0] = True
        try:
            wake.release()
        except RuntimeError:
            pass

def flusher():
    while True:
        wake.acquire()
        time.sleep(0.01)
        armed[0] = False
        if out._buf or err._buf:
            out.flush()
            err.flush()

for target in (fd_reader, flusher):
    _thread.start_new_thread(target, ())

def before_fork():
    if not St.child:
        try:
            out.flush()
            err.flush()
        except Exception:
            pass

def in_child():
    global lock
    lock = _thread.RLock()  # another thread may have held it at fork time
    St.child = True
    for fd in (pin, pout, r_out, r_err):
        try:
            os.close(fd)
        except OSError:
            pass

os.register_at_fork(before=before_fork, after_in_child=in_child)

# --- rich output ----------------------------------------------------------------------
reprs = (
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
    ("_repr_javascript_", "application/javascript"),
)

def encode(mime, value):
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
        value = value[0]  # (data, metadata)
    if isinstance(value, (bytes, bytearray)):
        if mime.startswith("image/") and mime != "image/svg+xml":
            import base64

            return base64.b64encode(value).decode("ascii")
        return bytes(value).decode("utf-8", "replace")
    if mime == "application/json" or mime.endswith("+json"):
        if isinstance(value, str):
            try:
                return loads(value)
            except Exception:
                return value
        return value
    return value if isinstance(value, str) else str(value)

def figure_png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)  # shown: not emitted again at the end of the cell
    return encode("image/png", buf.getvalue())

def is_figure(obj):
    return (type(obj).__module__ or "").startswith("matplotlib.figure") and hasattr(obj, "savefig")

# --- MIME bundles ---
def bundle(obj):
    data = {}
    if is_figure(obj):
        try:
            data["image/png"] = figure_png(obj)
        except Exception:
            pass
    elif not isinstance(obj, type):
        for meth, mime in reprs:
            fn = getattr(obj, meth, None)
            if callable(fn):
                try:
                    value = fn()
                except Exception:
                    continue
                if value is not None:
                    data[mime] = encode(mime, value)
        fn = getattr(obj, "_repr_mimebundle_", None)
        if callable(fn):
            try:
                extra = fn(include=None, exclude=None)
            except Exception:
                extra = None
            if isinstance(extra, tuple):
                extra = extra[0]
            if isinstance(extra, dict):
                for mime, value in extra.items():
                    if value is not None:
                        data[mime] = encode(mime, value)
    if "text/plain" not in data:
        try:
            data["text/plain"] = repr(obj)
        except Exception as e:
            data["text/plain"] = "<repr failed: %s: %s>" % (type(e).__name__, e)
    return data

def emit_result(data, main):
    out.flush()
    err.flush()
    deferred(send, {"type": "result", "data": data, "main": main})

def display(*objs, include=None, exclude=None, metadata=None, transient=None,
            display_id=None, raw=False, clear=False, **kwargs):
    """Show objects as rich outputs (IPython-compatible subset)."""
    for obj in objs:
        if raw and isinstance(obj, dict):
            emit_result({k: encode(k, v) for k, v in obj.items()}, False)
        else:
            emit_result(bundle(obj), False)

builtins.display = display

def show_figures(*args, **kwargs):
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for num in plt.get_fignums():
        fig = plt.figure(num)
        data = {"image/png": figure_png(fig), "text/plain": repr(fig)}
        emit_result(data, False)
    plt.close("all")

# --- tracebacks and import patches ---
# Cell sources for tracebacks: kept here, and in `linecache` once something imports it.
sources = {}
max_sources = 500

def remember(fname, code):
    entry = (len(code), None, code.splitlines(True), fname)
    sources[fname] = entry
    old = None
    if len(sources) > max_sources:
        old = next(iter(sources))
        del sources[old]
    lc = sys.modules.get("linecache")
    if lc is not None:
        lc.cache[fname] = entry
        if old is not None:
            lc.cache.pop(old, None)

# Patch IPython's display and pyplot.show when (and if) user code imports them.
patches = {
    "linecache": lambda m: m.cache.update(sources),
    "IPython.core.display_functions": lambda m: setattr(m, "display", display),
    "IPython.core.display": lambda m: setattr(m, "display", display),
    "matplotlib.pyplot": lambda m: setattr(m, "show", show_figures),
}

class PatchFinder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in patches:
            return None
        spec = sys.modules["_frozen_importlib_external"].PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        class Patched:
            def __getattr__(self, attr):
                return getattr(loader, attr)

            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                exec_module(module)
                try:
                    patches[name](module)
                except Exception:
                    pass

        spec.loader = Patched()
        return spec

sys.meta_path.insert(0, PatchFinder)

# --- execution ------------------------------------------------------------------------
main_mod = type(sys)("__main__")
main_mod.__builtins__ = builtins
main_mod.display = display
sys.modules["__main__"] = main_mod
sys.argv = [""]  # as in the interactive interpreter
user_ns = main_mod.__dict__
state = {"count": 0, "loop": None}
Expr = _ast.Expr
Expression = _ast.Expression
parse_flags = _ast.PyCF_ONLY_AST
flags = _ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

def error_of(e, skip_driver=True):
    import traceback

    tb = e.__traceback__
    if skip_driver:
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell-"):
            tb = tb.tb_next
    text = "".join(traceback.format_exception(type(e), e, tb))
    try:
        value = str(e)
    except Exception:
        value = "<unprintable %s>" % type(e).__name__
    return {"name": type(e).__name__, "value": value, "traceback": text}

# --- IPython-style magics ---
def shell_line(indent, cmd):
    return "%s(__import__('os').system(%r), None)[1]" % (indent, cmd)

def translate_magics(code):
    """IPython-style `!cmd`, `%pip`, `%matplotlib` and `%%bash` cells, as plain Python."""
    lines = code.split("\n")
    head = lines[0].strip()
    if head in ("%%bash", "%%sh", "%%script bash", "%%script sh"):
        return shell_line("", "\n".join(lines[1:]))
    changed = False
    for i, line in enumerate(lines):
        body = line.lstrip()
        indent = line[: len(line) - len(body)]
        if body.startswith("!"):
            lines[i] = shell_line(indent, body[1:])
        elif body.startswith(("%pip ", "%conda ")):
            tool = body[1:].split(None, 1)
            if tool[0] == "pip":
                cmd = "%s -m pip %s" % (sys.executable, tool[1] if len(tool) > 1 else "")
            else:
                cmd = body[1:]
            lines[i] = shell_line(indent, cmd)
        elif body.startswith(("%matplotlib", "%config", "%load_ext", "%reload_ext", "%autoreload")):
            lines[i] = indent + "pass"
        elif body.startswith(("%cd ", "%env ")):
            name, _, arg = body[1:].partition(" ")
            arg = arg.strip()
            if name == "cd":
                lines[i] = "%s__import__('os').chdir(%r)" % (indent, arg)
            else:
                key, _, value = arg.replace("=", " ", 1).partition(" ")
                lines[i] = "%s__import__('os').environ.__setitem__(%r, %r)" % (indent, key, value.strip())
        else:
            continue
        changed = True
    return "\n".join(lines) if changed else None

def parse(code, fname):
    try:
        return compile(code, fname, "exec", parse_flags | flags, dont_inherit=True)
    except SyntaxError:
        translated = translate_magics(code)
        if translated is None:
            raise
        return compile(translated, fname, "exec", parse_flags | flags, dont_inherit=True)

# --- running a cell ---
def run_cell(code):
    state["count"] += 1
    fname = "<cell-%d>" % state["count"]
    remember(fname, code)
    St.pending = False
    error = None
    value = None
    try:
        tree = parse(code, fname)
        last = None
        if tree.body and isinstance(tree.body[-1], Expr):
            last = Expression(tree.body.pop().value)
        body = compile(tree, fname, "exec", flags=flags, dont_inherit=True)
        tail = compile(last, fname, "eval", flags=flags, dont_inherit=True) if last else None
        St.user = True
        try:
            run(body)
            if tail is not None:
                value = run(tail)
        finally:
            St.user = False
    except BaseException as e:  # noqa: B036 - user code may raise anything, SystemExit too
        St.user = False
        error = error_of(e, not isinstance(e, SyntaxError))
    try:
        if error is None and value is not None:
            builtins._ = value
            user_ns["_"] = value
            emit_result(bundle(value), True)
        show_figures()
    except BaseException as e:
        if error is None:
            error = error_of(e)
    finally:
        out.flush()
        err.flush()
        if St.child:  # a fork of user code that fell through the cell
            os._exit(0)
        with lock:
            drain_fds(final=True)
            send({"type": "done", "error": error})

CO_COROUTINE = 0x80

def run(code_obj):
    result = eval(code_obj, user_ns)
    if code_obj.co_flags & CO_COROUTINE:
        loop = state["loop"]
        if loop is None:
            import asyncio

            loop = state["loop"] = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
        result = loop.run_until_complete(result)
    return result

# --- request loop ---------------------------------------------------------------------
def read_exact(n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(pin, n - len(buf))
        if not chunk:
            os._exit(0)
        buf += chunk
    return bytes(buf)

send({"type": "ready", "pid": os.getpid()})
while True:
    size = int.from_bytes(read_exact(4), "big")
    req = loads(read_exact(size).decode("utf-8", "replace"))
    if req.get("type") == "execute":
        run_cell(req.get("code", ""))
    else:
        send({"type": "done", "error": {"name": "ProtocolError",
                                        "value": "unknown request %r" % req.get("type"),
                                        "traceback": ""}})
