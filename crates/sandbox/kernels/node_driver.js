// agbcloud-sandbox JavaScript kernel driver, passed with `node --expose-internals -e`.
//
// The start command moves the protocol to fds 3 (requests) and 4 (messages), fd 0 to
// /dev/null and fds 1 and 2 to the stderr pipe. Frames are a 4-byte big-endian length and
// UTF-8 JSON, as for the Python driver:
//   requests:  {"type": "execute", "code": str}
//   messages:  ready, stream {name, text}, result {data, main}, done {error}
'use strict';
(() => {
  const fs = require('fs');
  const net = require('net');
  const os = require('os');
  const path = require('path');
  const util = require('util');
  const vm = require('vm');
  const Module = require('module');
  const { Writable } = require('stream');
  const { Console } = require('console');

  let acorn = null;
  try {
    acorn = require('internal/deps/acorn/acorn/dist/acorn');
  } catch (_) {
    acorn = null; // no rewriting: top-level const/let cannot be re-declared
  }

  const IN = 3;
  const OUT = 4;
  const CHUNK = 1 << 16;

  // --- framing ---------------------------------------------------------------------------
  function writeAll(buf) {
    let off = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(OUT, buf, off, buf.length - off);
      } catch (e) {
        if (e.code === 'EAGAIN') continue;
        process.reallyExit(0);
      }
    }
  }

  const MAX_FRAME = 48 << 20; // the host refuses frames over 64 MiB
  function send(obj) {
    let body = Buffer.from(JSON.stringify(obj), 'utf8');
    if (body.length > MAX_FRAME) {
      const note = `[${obj.type} output of ${body.length} bytes dropped: too large]`;
      obj = obj.type === 'done'
        ? { type: 'done', error: { name: 'OutputTooLarge', value: note, traceback: '' } }
        : { type: 'stream', name: 'stderr', text: `${note}\n` };
      body = Buffer.from(JSON.stringify(obj), 'utf8');
    }
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(body.length, 0);
    writeAll(Buffer.concat([head, body]));
  }

  const wellFormed = (s) => (typeof s.toWellFormed === 'function' ? s.toWellFormed() : s);

  // While a cell runs synchronously, SIGINT terminates JavaScript at any call or loop edge,
  // so a frame written in several write() calls could be cut. Frames of at most PIPE_BUF
  // (4096) bytes are written atomically by one call: keep stream frames that small then.
  let smallFrames = false;
  const SMALL_CHUNK = 512; // UTF-16 units: at most 3072 bytes of JSON text

  function emit(name, text) {
    if (!text) return;
    text = wellFormed(text);
    const chunk = smallFrames ? SMALL_CHUNK : CHUNK;
    for (let i = 0; i < text.length; i += chunk) {
      send({ type: 'stream', name, text: text.slice(i, i + chunk) });
    }
  }

  // --- user-facing streams and console ---------------------------------------------------
  function stream(name, fd) {
    const w = new Writable({
      decodeStrings: false,
      write(chunk, encoding, cb) {
        const text = typeof chunk === 'string'
          ? (encoding && encoding !== 'utf8' && encoding !== 'utf-8' && encoding !== 'buffer'
            ? Buffer.from(chunk, encoding).toString('utf8') : chunk)
          : Buffer.from(chunk).toString('utf8');
        emit(name, text);
        cb();
      },
    });
    w.isTTY = false;
    w.fd = fd;
    w.columns = 80;
    return w;
  }
  const stdout = stream('stdout', 1);
  const stderr = stream('stderr', 2);
  for (const [key, value] of [['stdout', stdout], ['stderr', stderr]]) {
    Object.defineProperty(process, key, { configurable: true, enumerable: true, get: () => value });
  }
  const userConsole = new Console({ stdout, stderr, colorMode: false });

  process.on('uncaughtException', (e) => emit('stderr', `Uncaught ${e && e.stack ? e.stack : util.inspect(e)}\n`));
  process.on('unhandledRejection', (e) => emit('stderr', `Unhandled rejection: ${e && e.stack ? e.stack : util.inspect(e)}\n`));

  // --- context ---------------------------------------------------------------------------
  const cwd = process.cwd();
  const cellRequire = Module.createRequire(path.join(cwd, '[cell]'));
  const userModule = { exports: {}, require: cellRequire, id: '[cell]', filename: path.join(cwd, '[cell]') };
  function display(value, mime) {
    const data = mime ? { [mime]: value } : bundle(value);
    send({ type: 'result', data, main: false });
  }
  const globals = {
    console: userConsole, require: cellRequire, module: userModule, exports: userModule.exports,
    __filename: userModule.filename, __dirname: cwd, process, Buffer, display,
    navigator: globalThis.navigator || {
      userAgent: `Node.js/${process.versions.node.split('.')[0]}`,
      hardwareConcurrency: os.cpus().length, language: 'en-US', platform: process.platform,
    },
  };
  for (const name of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate',
    'clearImmediate', 'queueMicrotask', 'structuredClone', 'URL', 'URLSearchParams', 'TextEncoder',
    'TextDecoder', 'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'MessageChannel',
    'MessagePort', 'BroadcastChannel', 'fetch', 'Headers', 'Request', 'Response', 'FormData',
    'Blob', 'File', 'performance', 'atob', 'btoa', 'crypto', 'WebSocket']) {
    if (globalThis[name] !== undefined) globals[name] = globalThis[name];
  }
  const ctx = vm.createContext(globals);
  vm.runInContext('var global = globalThis;', ctx);

  // --- REPL-style rewriting of top-level declarations -----------------------------------
  function names(p, out) {
    if (!p) return out;
    switch (p.type) {
      case 'Identifier': out.push(p.name); break;
      case 'ObjectPattern': for (const q of p.properties) names(q.type === 'RestElement' ? q.argument : q.value, out); break;
      case 'ArrayPattern': for (const q of p.elements) names(q, out); break;
      case 'RestElement': names(p.argument, out); break;
      case 'AssignmentPattern': names(p.left, out); break;
      default: break;
    }
    return out;
  }

  function hasTopLevelAwait(node) {
    if (!node || typeof node.type !== 'string') return false;
    if (node.type === 'AwaitExpression') return true;
    if (node.type === 'ForOfStatement' && node.await) return true;
    if (node.type.includes('Function')) return false;
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === 'string' && hasTopLevelAwait(c)) return true;
      } else if (v && typeof v.type === 'string' && hasTopLevelAwait(v)) {
        return true;
      }
    }
    return false;
  }

  function applyEdits(code, edits) {
    edits.sort((a, b) => b.start - a.start || b.end - a.end);
    for (const e of edits) code = code.slice(0, e.start) + e.text + code.slice(e.end);
    return code;
  }

  // Returns { code, async }: top-level const/let/class become var-like globals, so a later
  // cell may declare them again; cells with top-level await run in an async function.
  function prepare(code) {
    // `{ a: 1 }` alone is an object, not a block, as in the Node REPL.
    const trimmed = code.trim();
    if (trimmed.startsWith('{') && trimmed.endsWith('}') && !trimmed.endsWith(';')) {
      try {
        new vm.Script(`(${trimmed})`);
        code = `(${trimmed})`;
      } catch (_) { /* a block after all */ }
    }
    if (!acorn) return { code, async: false };
    let ast;
    try {
      ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: true, allowHashBang: true });
    } catch (_) {
      return { code, async: false }; // let vm report the SyntaxError
    }
    const src = (n) => code.slice(n.start, n.end);
    const edits = [];
    if (!hasTopLevelAwait(ast)) {
      for (const st of ast.body) {
        if (st.type === 'VariableDeclaration' && st.kind !== 'var') {
          edits.push({ start: st.start, end: st.start + st.kind.length, text: 'var' });
        } else if (st.type === 'ClassDeclaration' && st.id) {
          edits.push({ start: st.start, end: st.start, text: `var ${st.id.name} = ` });
          edits.push({ start: st.end, end: st.end, text: ';' });
        }
      }
      return { code: applyEdits(code, edits), async: false };
    }
    const hoisted = new Set();
    const outside = [];
    const body = ast.body;
    body.forEach((st, i) => {
      if (st.type === 'VariableDeclaration') {
        const parts = [];
        for (const d of st.declarations) {
          for (const n of names(d.id, [])) hoisted.add(n);
          if (d.init) parts.push(`(${src(d.id)} = ${src(d.init)})`);
          else if (st.kind !== 'var') parts.push(`(${src(d.id)} = undefined)`);
        }
        edits.push({ start: st.start, end: st.end, text: parts.length ? `void (${parts.join(', ')});` : ';' });
      } else if (st.type === 'FunctionDeclaration') {
        outside.push(src(st));
        edits.push({ start: st.start, end: st.end, text: ';' });
      } else if (st.type === 'ClassDeclaration' && st.id) {
        hoisted.add(st.id.name);
        edits.push({ start: st.start, end: st.end, text: `${st.id.name} = ${src(st)};` });
      } else if (i === body.length - 1 && st.type === 'ExpressionStatement') {
        edits.push({ start: st.start, end: st.end, text: `return (${src(st.expression)});` });
      }
    });
    const decl = hoisted.size ? `var ${[...hoisted].join(', ')};\n` : '';
    const wrapped = `${decl}${outside.join('\n')}\n(async () => {\n${applyEdits(code, edits)}\n})()`;
    return { code: wrapped, async: true };
  }

  // --- results and errors ----------------------------------------------------------------
  function bundle(value) {
    const data = { 'text/plain': wellFormed(util.inspect(value, { depth: 6, colors: false })) };
    if (value && typeof value === 'object') {
      for (const [method, mime] of [['_toHtml', 'text/html'], ['_toMarkdown', 'text/markdown'], ['_toSvg', 'image/svg+xml']]) {
        if (typeof value[method] === 'function') {
          try { data[mime] = String(value[method]()); } catch (_) { /* ignore */ }
        }
      }
    }
    return data;
  }

  function errorOf(e) {
    if (e && typeof e === 'object' && typeof e.message === 'string') {
      const stack = typeof e.stack === 'string' ? e.stack : `${e.name}: ${e.message}`;
      const traceback = stack.split('\n').filter((l) => !/\[eval\]|node:vm|\(node:internal\/vm/.test(l)).join('\n');
      return { name: String(e.name || (e.constructor && e.constructor.name) || 'Error'), value: e.message, traceback };
    }
    return { name: 'Error', value: util.inspect(e), traceback: '' };
  }

  let interrupt = null;
  process.on('SIGINT', () => {
    if (interrupt) interrupt(Object.assign(new Error('Execution interrupted by SIGINT'), { name: 'KeyboardInterrupt' }));
  });

  let count = 0;
  async function execute(code) {
    count += 1;
    let error = null;
    try {
      const prepared = prepare(code);
      smallFrames = true;
      let value;
      try {
        value = vm.runInContext(prepared.code, ctx, { filename: `<cell-${count}>`, breakOnSigint: true });
      } finally {
        smallFrames = false;
      }
      if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function') {
        const stop = new Promise((_, reject) => { interrupt = reject; });
        value = await Promise.race([value, stop]);
      }
      if (value !== undefined) send({ type: 'result', data: bundle(value), main: true });
    } catch (e) {
      error = errorOf(e);
    } finally {
      interrupt = null;
    }
    send({ type: 'done', error });
  }

  // --- request loop ----------------------------------------------------------------------
  const queue = [];
  let busy = false;
  async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const req = queue.shift();
      if (req.type === 'execute') await execute(String(req.code || ''));
      else send({ type: 'done', error: { name: 'ProtocolError', value: `unknown request ${req.type}`, traceback: '' } });
    }
    busy = false;
  }

  let pending = Buffer.alloc(0);
  const input = new net.Socket({ fd: IN, readable: true, writable: false });
  input.on('data', (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    while (pending.length >= 4) {
      const n = pending.readUInt32BE(0);
      if (pending.length < 4 + n) break;
      queue.push(JSON.parse(pending.subarray(4, 4 + n).toString('utf8')));
      pending = pending.subarray(4 + n);
    }
    pump();
  });
  const quit = () => process.reallyExit(0);
  input.on('end', quit);
  input.on('close', quit);
  input.on('error', quit);
  send({ type: 'ready', pid: process.pid });
})();
