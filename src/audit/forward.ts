import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HardkmsError, InputError } from '../errors.js';
import { auditLineTime } from './record-schema.js';

/**
 * Off-host forwarding of audit records: the one defence against someone who holds the
 * token PIN and can rewrite every local file. Each record goes to an append-only sink
 * (RFC 5424 syslog over TCP or TLS, or an HTTPS endpoint taking JSON lines) before the
 * append returns, so before the effect it records leaves the process; a sink that cannot
 * take it fails the append (fail closed).
 *
 * Appends are synchronous (they run inside a store transaction), sockets are not: a worker
 * thread owns the connection and the appending thread waits for its answer on a shared
 * Int32Array (Atomics.wait), with a deadline.
 */

export interface ForwardTarget {
  /** syslog+tcp://host:port, syslog+tls://host:port or https://host[:port]/path */
  url: string;
  /** PEM of the CA that signs the sink's certificate (TLS, HTTPS); default: the system's. */
  caPem?: string | undefined;
}

const SCHEMES = new Set(['syslog+tcp:', 'syslog+tls:', 'https:']);
/** How long an append waits for the sink before it counts as down. */
const DEADLINE_MS = 10_000;

export function parseForwardTarget(url: string, caPem?: string): ForwardTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badTarget(url);
  }
  if (!SCHEMES.has(u.protocol) || !u.hostname || (u.protocol !== 'https:' && !u.port)) throw badTarget(url);
  return { url: u.href, ...(caPem ? { caPem } : {}) };
}

function badTarget(url: string): HardkmsError {
  return new InputError(
    `--audit-forward '${url}' is not a sink hardkms can forward to.`,
    'Use syslog+tcp://HOST:PORT, syslog+tls://HOST:PORT (RFC 5424, octet-counted framing) or https://HOST/PATH (JSON lines, POST).',
  );
}

/** An RFC 5424 message (facility log audit, severity info) carrying one record line as MSG. */
export function syslogFrame(line: string, host = hostname(), pid = process.pid): string {
  // The record's own time when it has one in RFC 5424's form; never text from the line that is not one.
  const time = auditLineTime(line)?.time ?? new Date().toISOString();
  const msg = `<110>1 ${time} ${host || '-'} hardkms ${pid} audit - ${line}`;
  // RFC 6587 octet counting: the length in bytes, a space, the message.
  return `${Buffer.byteLength(msg, 'utf8')} ${msg}`;
}

const WORKER = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const tls = require('node:tls');
const https = require('node:https');
let socket;
let broken = true;
function connect(t) {
  return new Promise((resolve, reject) => {
    const u = new URL(t.url);
    const opts = { host: u.hostname, port: Number(u.port), ...(t.caPem ? { ca: t.caPem } : {}), servername: u.hostname };
    const s = u.protocol === 'syslog+tls:' ? tls.connect(opts) : net.connect(opts);
    const ready = u.protocol === 'syslog+tls:' ? 'secureConnect' : 'connect';
    s.once(ready, () => { s.removeListener('error', reject); s.on('error', () => { broken = true; }); s.on('close', () => { broken = true; }); resolve(s); });
    s.once('error', reject);
    s.setTimeout(${DEADLINE_MS}, () => s.destroy(new Error('timeout')));
  });
}
async function syslog(t, frames) {
  if (broken || !socket) { socket?.destroy(); socket = await connect(t); broken = false; }
  for (const f of frames) {
    await new Promise((resolve, reject) => socket.write(f, (e) => (e ? reject(e) : resolve())));
  }
  // A closed peer shows only on the next write: give the kernel a moment to report a reset.
  await new Promise((r) => setImmediate(r));
  if (broken) throw new Error('the sink closed the connection');
}
function post(t, lines) {
  return new Promise((resolve, reject) => {
    const body = lines.map((l) => l + '\\n').join('');
    const req = https.request(t.url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) }, ...(t.caPem ? { ca: t.caPem } : {}), timeout: ${DEADLINE_MS} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error('HTTP ' + res.statusCode))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
parentPort.on('message', async ({ target, items, state }) => {
  const flag = new Int32Array(state, 0, 1);
  const text = new Uint8Array(state, 4);
  let status = 1;
  let message = '';
  try {
    if (target.url.startsWith('https:')) await post(target, items);
    else await syslog(target, items);
  } catch (e) {
    status = 2;
    message = String((e && e.message) || e).slice(0, 200);
    broken = true;
  }
  text.fill(0);
  text.set(Buffer.from(message).subarray(0, text.length));
  Atomics.store(flag, 0, status);
  Atomics.notify(flag, 0);
});
`;

/** One sink, one worker; send() blocks until the sink took the lines or failed. */
export class AuditForwarder {
  readonly target: ForwardTarget;
  private worker: Worker | undefined;
  private readonly state = new SharedArrayBuffer(4 + 256);

  constructor(target: ForwardTarget) {
    this.target = target;
  }

  /** Sends record lines, in order, as written. Throws AUDIT_FORWARD_DOWN when the sink does not take them. */
  send(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.worker ??= this.startWorker();
    const flag = new Int32Array(this.state, 0, 1);
    Atomics.store(flag, 0, 0);
    const items = this.target.url.startsWith('https:') ? [...lines] : lines.map((l) => syslogFrame(l));
    this.worker.postMessage({ target: this.target, items, state: this.state });
    const waited = Atomics.wait(flag, 0, 0, DEADLINE_MS + 1000);
    const status = Atomics.load(flag, 0);
    if (waited === 'timed-out' || status !== 1) {
      const why =
        status === 2
          ? Buffer.from(new Uint8Array(this.state, 4)).toString('utf8').replace(/\0+$/, '')
          : 'no answer in time';
      throw new HardkmsError(
        'AUDIT_FORWARD_DOWN',
        `The audit sink ${redact(this.target.url)} did not take the record (${why}); nothing it records was done.`,
        {
          hint: 'Bring the sink back: records written meanwhile are sent in order at the next append. Until then hardkms does nothing that must be audited.',
        },
      );
    }
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private startWorker(): Worker {
    const w = new Worker(WORKER, { eval: true });
    w.unref();
    return w;
  }
}

/** A URL for messages: no user info. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}
