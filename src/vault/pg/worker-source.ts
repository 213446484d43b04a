/**
 * The worker thread of the synchronous PostgreSQL bridge (sync-client.ts), as source text:
 * it runs from a string (`new Worker(src, { eval: true })`) so that the same code serves the
 * built CLI and the TypeScript sources under test. It owns one pg.Client, answers one
 * request at a time in order, and wakes the blocked main thread through a shared counter.
 *
 * A connection that fails is dropped and the next request connects anew; every answer says
 * which connection (generation) ran it, so the main thread can tell that a transaction's
 * statements did not all run on one connection (then the transaction is gone).
 */
export const WORKER_SOURCE = String.raw`
const { workerData } = await import('node:worker_threads');
const { default: pg } = await import(workerData.pgUrl);
// int8 (count(*)) as a number: the counts fit; numeric stays text.
pg.types.setTypeParser(20, (v) => Number(v));
const flag = new Int32Array(workerData.shared);
const port = workerData.port;
const { verifyHost, ...config } = workerData.config;
if (!verifyHost) config.ssl.checkServerIdentity = () => undefined;
// The password comes from the pgpass file (libpq's format and rule: ignored unless 0600).
const { readFileSync, statSync } = await import('node:fs');
const { homedir } = await import('node:os');
const { join } = await import('node:path');
function pgpassFields(line) {
  const out = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\' && i + 1 < line.length) cur += line[++i];
    else if (line[i] === ':' && out.length < 4) { out.push(cur); cur = ''; }
    else cur += line[i];
  }
  out.push(cur);
  return out;
}
config.password = async () => {
  const file = workerData.passFile || join(homedir(), '.pgpass');
  let text;
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const want = [config.host, String(config.port), config.database, config.user];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = pgpassFields(line.replace(/\r$/, ''));
    if (f.length === 5 && want.every((w, i) => f[i] === '*' || f[i] === w)) return f[4];
  }
  return undefined;
};
let client;
let generation = 0;
let chain = Promise.resolve();
function dropClient() {
  const c = client;
  client = undefined;
  if (c) c.end().catch(() => {});
}
async function connect() {
  const c = new pg.Client(config);
  c.on('error', () => {
    if (client === c) client = undefined;
  });
  await c.connect();
  await c.query("SET lock_timeout = '" + workerData.lockTimeoutMs + "ms'");
  // Held for the connection's life: other instances read it in pg_locks to tell that this
  // one is alive (a claim of a dead instance is taken over at once, not after its lease).
  await c.query('SELECT pg_advisory_lock($1, $2)', workerData.sessionLock);
  generation++;
  return c;
}
function lostConnection(e) {
  const code = e && e.code;
  if (typeof code !== 'string') return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code.startsWith('57P');
  return true;
}
async function handle(req) {
  if (req.op === 'close') {
    dropClient();
    return { rows: [], rowCount: 0 };
  }
  if (!client) client = await connect();
  // Structured cloning turned Buffers into Uint8Arrays on the way here.
  const values = req.params.map((v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
  const r = await client.query({ text: req.sql, values });
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  return { rows: last ? last.rows : [], rowCount: last && last.rowCount !== null ? last.rowCount : 0 };
}
port.on('message', (req) => {
  chain = chain.then(async () => {
    let res;
    try {
      const out = await handle(req);
      res = { id: req.id, ok: true, generation, rows: out.rows, rowCount: out.rowCount };
    } catch (e) {
      if (lostConnection(e)) dropClient();
      res = {
        id: req.id,
        ok: false,
        generation,
        error: { message: String((e && e.message) || e), code: e && e.code, constraint: e && e.constraint },
      };
    }
    port.postMessage(res);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
`;
