# Runs the driver (sys.argv[1]) section by section (sections start with "# --- "), each
# compiled on its own into one namespace: compiling ~25 KB at once leaves ~1.5 MB of freed
# but resident compiler heap in every idle kernel; small pieces reuse the same memory.
def _agb_boot():
    import sys

    src = sys.argv.pop(1)
    ns = {"__name__": "_agb_driver", "__builtins__": __builtins__}
    line = 0
    for i, part in enumerate(src.split("\n# --- ")):
        part = ("\n" * line) + ("# --- " if i else "") + part
        line = part.count("\n") + 1
        code = compile(part, "<agb-driver>", "exec")
        del part
        exec(code, ns)


_agb_boot()
