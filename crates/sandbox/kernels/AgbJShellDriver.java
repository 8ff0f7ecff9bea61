// agbcloud-sandbox Java kernel driver: JShell API with the local execution engine, so
// snippets run in this JVM. Run with the single-file source launcher. The start command moves
// the protocol to fds 3 (requests) and 4 (messages), fd 0 to /dev/null and fds 1 and 2 to the
// stderr pipe. Frames: 4-byte big-endian length + UTF-8 JSON, as for the Python driver.

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

public class AgbJShellDriver {
    static OutputStream proto;
    static final Object LOCK = new Object();
    static volatile boolean interrupted;

    static final int MAX_FRAME = 48 << 20; // the host refuses frames over 64 MiB

    static void send(String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        if (body.length > MAX_FRAME) {
            String note = "[output of " + body.length + " bytes dropped: too large]";
            json = json.startsWith("{\"type\":\"done\"")
                ? "{\"type\":\"done\",\"error\":" + error("OutputTooLarge", note, "") + "}"
                : "{\"type\":\"stream\",\"name\":\"stderr\",\"text\":" + str(note + "\n") + "}";
            body = json.getBytes(StandardCharsets.UTF_8);
        }
        // One array, one native write: Thread.stop (the interrupt) cannot split a frame.
        byte[] frame = new byte[4 + body.length];
        frame[0] = (byte) (body.length >>> 24);
        frame[1] = (byte) (body.length >>> 16);
        frame[2] = (byte) (body.length >>> 8);
        frame[3] = (byte) body.length;
        System.arraycopy(body, 0, frame, 4, body.length);
        synchronized (LOCK) {
            try {
                proto.write(frame);
            } catch (IOException e) {
                Runtime.getRuntime().halt(0);
            }
        }
    }

    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20 || Character.isSurrogate(c)) {
                        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                            b.append(c).append(s.charAt(++i));
                        } else if (Character.isSurrogate(c)) {
                            b.append("\\ufffd");
                        } else {
                            b.append(String.format("\\u%04x", (int) c));
                        }
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    static void stream(String name, String text) {
        for (int i = 0; i < text.length(); i += 65536) {
            send("{\"type\":\"stream\",\"name\":\"" + name + "\",\"text\":" + str(text.substring(i, Math.min(text.length(), i + 65536))) + "}");
        }
    }

    /** Collects bytes written by user code; flushes complete UTF-8 text as stream frames. */
    static final class Capture extends OutputStream {
        final String name;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Capture(String name) {
            this.name = name;
        }

        @Override
        public synchronized void write(int b) {
            buf.write(b);
            if (b == '\n') flush();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            buf.write(b, off, len);
            flush();
        }

        @Override
        public synchronized void flush() {
            byte[] bytes = buf.toByteArray();
            int end = bytes.length;
            // keep an incomplete UTF-8 sequence for the next write
            int i = end - 1, back = 0;
            while (i >= 0 && back < 3 && (bytes[i] & 0xC0) == 0x80) { i--; back++; }
            if (i >= 0) {
                int lead = bytes[i] & 0xFF;
                int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                if (need > end - i) end = i;
            }
            if (end == 0) return;
            String text = new String(bytes, 0, end, StandardCharsets.UTF_8);
            buf.reset();
            buf.write(bytes, end, bytes.length - end);
            stream(name, text);
        }
    }

    static String traceback(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    static String error(String name, String value, String tb) {
        return "{\"name\":" + str(name) + ",\"value\":" + str(value == null ? "" : value) + ",\"traceback\":" + str(tb) + "}";
    }

    public static void main(String[] args) throws Exception {
        proto = new FileOutputStream(fd(4));
        DataInputStream in = new DataInputStream(new FileInputStream(fd(3)));
        Capture outCap = new Capture("stdout");
        Capture errCap = new Capture("stderr");
        PrintStream out = new PrintStream(outCap, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(errCap, true, StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(err);
        System.setIn(InputStream.nullInputStream());
        JShell shell = JShell.builder()
            .executionEngine("local")
            .in(InputStream.nullInputStream())
            .out(out)
            .err(err)
            .build();
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                interrupted = true;
                shell.stop();
            });
        } catch (Throwable ignored) {
            // no interrupt support: a timeout kills the kernel instead
        }
        // Warm up javac and the execution engine so the first cell is fast.
        shell.eval("int $agbWarm = 1;");
        send("{\"type\":\"ready\",\"pid\":" + ProcessHandle.current().pid() + "}");
        if (args.length > 0) {
            compileInto(args[0]);
        }
        while (true) {
            int len;
            try {
                len = in.readInt();
            } catch (EOFException e) {
                Runtime.getRuntime().halt(0);
                return;
            }
            byte[] body = new byte[len];
            in.readFully(body);
            String code = code(new String(body, StandardCharsets.UTF_8));
            interrupted = false;
            String errorJson = run(shell, analysis, code, out, err);
            out.flush();
            err.flush();
            send("{\"type\":\"done\",\"error\":" + errorJson + "}");
        }
    }

    /**
     * An inherited fd. Reopening /proc/self/fd/N fails for pipes owned by another uid, so the
     * fd is wrapped directly (needs --add-opens java.base/java.io=ALL-UNNAMED).
     */
    static java.io.FileDescriptor fd(int n) throws Exception {
        java.io.FileDescriptor fd = new java.io.FileDescriptor();
        java.lang.reflect.Field field = java.io.FileDescriptor.class.getDeclaredField("fd");
        field.setAccessible(true);
        field.setInt(fd, n);
        return fd;
    }

    /**
     * Started from source: compile this driver into {@code dir} in the background, so the next
     * start runs the classes. The main class is moved in last, as the marker of a complete build.
     */
    static void compileInto(String dir) {
        Thread t = new Thread(() -> {
            try {
                java.nio.file.Path target = java.nio.file.Path.of(dir);
                java.nio.file.Path build = java.nio.file.Files.createTempDirectory(target, ".build");
                javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
                OutputStream sink = OutputStream.nullOutputStream();
                int rc = javac.run(null, sink, sink, "-nowarn", "-XDsuppressNotes", "-proc:none",
                    "-d", build.toString(), target.resolve("AgbJShellDriver.java").toString());
                if (rc == 0) {
                    List<java.nio.file.Path> classes;
                    try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(build)) {
                        classes = s.sorted((a, b) -> a.getFileName().toString().equals("AgbJShellDriver.class") ? 1
                            : b.getFileName().toString().equals("AgbJShellDriver.class") ? -1 : 0)
                            .collect(Collectors.toList());
                    }
                    for (java.nio.file.Path c : classes) {
                        java.nio.file.Files.move(c, target.resolve(c.getFileName()),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    }
                }
                try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(build)) {
                    s.forEach(p -> p.toFile().delete());
                }
                java.nio.file.Files.deleteIfExists(build);
            } catch (Throwable ignored) {
                // no cache: the next start compiles from source again
            }
        }, "agb-self-compile");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /** Runs every snippet of a cell; returns the error JSON or "null". */
    static String run(JShell shell, SourceCodeAnalysis analysis, String code, PrintStream out, PrintStream err) {
        String remaining = code;
        String lastValue = null;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            String source;
            switch (info.completeness()) {
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    source = info.source();
                    remaining = info.remaining();
                    break;
                case EMPTY:
                    remaining = "";
                    continue;
                default:
                    source = remaining;
                    remaining = "";
            }
            lastValue = null;
            List<SnippetEvent> events = shell.eval(source);
            if (interrupted) {
                return error("Interrupted", "execution was interrupted", "");
            }
            for (SnippetEvent e : events) {
                if (e.causeSnippet() != null) continue;
                JShellException ex = e.exception();
                if (ex != null) {
                    out.flush();
                    if (ex instanceof EvalException) {
                        EvalException ee = (EvalException) ex;
                        return error(ee.getExceptionClassName(), ee.getMessage(), ee.getExceptionClassName()
                            + (ee.getMessage() == null ? "" : ": " + ee.getMessage()) + "\n" + frames(ee));
                    }
                    if (ex instanceof UnresolvedReferenceException) {
                        Snippet s = ((UnresolvedReferenceException) ex).getSnippet();
                        String missing = shell.unresolvedDependencies((jdk.jshell.DeclarationSnippet) s)
                            .collect(Collectors.joining(", "));
                        return error("UnresolvedReferenceException", "unresolved: " + missing, "");
                    }
                    return error(ex.getClass().getSimpleName(), ex.getMessage(), traceback(ex));
                }
                if (e.status() == Snippet.Status.REJECTED) {
                    String diags = shell.diagnostics(e.snippet())
                        .map(d -> d.getMessage(Locale.ROOT))
                        .collect(Collectors.joining("\n"));
                    if (diags.isEmpty()) diags = "snippet rejected";
                    return error("CompilationError", diags, source.strip() + "\n" + diags);
                }
                Snippet s = e.snippet();
                boolean expression = s.kind() == Snippet.Kind.EXPRESSION
                    || s.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
                if (expression && e.value() != null) lastValue = e.value();
            }
        }
        if (lastValue != null) {
            out.flush();
            send("{\"type\":\"result\",\"main\":true,\"data\":{\"text/plain\":" + str(lastValue) + "}}");
        }
        return "null";
    }

    static String frames(EvalException e) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement el : e.getStackTrace()) {
            if (el.getClassName().startsWith("jdk.jshell.") || el.getClassName().startsWith("jdk.internal.")
                || el.getClassName().startsWith("java.lang.reflect.") || el.getClassName().equals("AgbJShellDriver")) {
                continue;
            }
            b.append("\tat ").append(el).append('\n');
        }
        return b.toString();
    }

    /** Pulls "code" out of {"type":"execute","code":"..."} (the only request). */
    static String code(String json) {
        int key = json.indexOf("\"code\"");
        if (key < 0) return "";
        int i = json.indexOf('"', json.indexOf(':', key) + 1);
        StringBuilder b = new StringBuilder();
        for (i = i + 1; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '"') break;
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char n = json.charAt(++i);
            switch (n) {
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'u': b.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16)); i += 4; break;
                default: b.append(n);
            }
        }
        return b.toString();
    }
}
