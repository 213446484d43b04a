// The Tatum-compatible API of scripts/bench/daemon, in a process of its own (so its CPU is
// not the daemon's): pending transactions (§2.2), broadcast (§2.4: ETH, BSC, MATIC, BTC, LTC,
// DOGE; the txId answered is a hash of the bytes, not the chain's), the error batch
// (§2.6) and a four-eyes approver that says yes (§2.9). Prints its port on stdout.
// Bench hooks: POST /bench/queue {items}, POST /bench/produce {rate, items} (queued at
// `rate`/s, each stamped when queued), GET /bench/stats, POST /bench/reset.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { keccak256 } from 'ethers';

const queue = new Map(); // id -> pending tx
const bornAt = new Map(); // id -> hrtime when queued
let latencies = [];
let errors = 0;
let broadcasts = 0;
const now = () => process.hrtime.bigint();

function enqueue(item) {
  queue.set(item.id, item);
  bornAt.set(item.id, now());
}

const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  const json = body ? JSON.parse(body) : undefined;
  const reply = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(value === undefined ? '' : JSON.stringify(value));
  };
  if (req.method === 'POST' && req.url.startsWith('/v3/kms/pending/')) {
    const chain = req.url.slice('/v3/kms/pending/'.length);
    const posted = new Set(json.signatureIds);
    return reply(
      200,
      [...queue.values()].filter((p) => p.chain === chain && p.hashes.some((h) => posted.has(h))),
    );
  }
  if (req.method === 'POST' && /^\/v3\/(ethereum|bsc|polygon|bitcoin|litecoin|dogecoin)\/broadcast$/.test(req.url)) {
    const t = bornAt.get(json.signatureId);
    if (t !== undefined) latencies.push(Number(now() - t) / 1e6);
    queue.delete(json.signatureId);
    bornAt.delete(json.signatureId);
    broadcasts++;
    return reply(200, {
      txId: json.txData.startsWith('0x')
        ? keccak256(json.txData)
        : createHash('sha256').update(json.txData).digest('hex'),
    });
  }
  if (req.method === 'POST' && req.url === '/v3/tatum/kms/batch') {
    errors += json.errors.length;
    for (const e of json.errors.slice(0, 3)) console.error('error batch:', e.error);
    return reply(200);
  }
  if (req.url.startsWith('/approve/')) return reply(200, {});
  if (req.method === 'POST' && req.url === '/bench/queue') {
    for (const item of json.items) enqueue(item);
    return reply(200, { queued: json.items.length });
  }
  if (req.method === 'POST' && req.url === '/bench/produce') {
    const items = json.items;
    const start = now();
    let i = 0;
    const tick = () => {
      const due = Math.min(items.length, Math.floor((Number(now() - start) / 1e9) * json.rate) + 1);
      while (i < due) enqueue(items[i++]);
      if (i < items.length) setTimeout(tick, 2);
    };
    tick();
    return reply(200, { producing: items.length });
  }
  if (req.url === '/bench/stats') return reply(200, { latencies, errors, broadcasts, pending: queue.size });
  if (req.method === 'POST' && req.url === '/bench/reset') {
    latencies = [];
    errors = 0;
    broadcasts = 0;
    return reply(200, {});
  }
  reply(404, {});
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('disconnect', () => process.exit(0));
