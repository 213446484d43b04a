/**
 * Attacks on four-eyes approval by someone on the path between hardkms and the approver
 * (the approver is reached over plain http on 127.0.0.1 here, as a network attacker would
 * see it). The approver is honest: it approves only transactions paying A and proves its
 * answer with the shared secret. The attack succeeds if a transaction it did not approve
 * is signed. Each test fails on the code before issue 10's fix (checked once, see the note
 * of issue 10).
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalApprover } from '../../src/signer/pipeline/approval.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const ATTACKER = '0x000000000000000000000000000000000000a77a';
const SECRET = Buffer.from('a shared approver secret of 32 bytes!');

interface Server {
  url: string;
  close(): Promise<void>;
}

async function listen(
  handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void | Promise<void>,
): Promise<Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The honest approver (POST mode): approves a pending transaction only if what it was
 * shown pays A, and proves the answer as the runbook's approver protocol says (or, to a
 * client that sends no nonce, as the HMAC of the id that hardkms used to ask for).
 */
function honestApprover(): Promise<Server> {
  return listen((req, body, res) => {
    const id = (req.url ?? '').split('/').pop() ?? '';
    const shown = JSON.parse(body) as { serializedTransaction?: string };
    const to = (JSON.parse(shown.serializedTransaction ?? '{}') as { to?: string }).to;
    if (to !== A) {
      res.writeHead(403).end();
      return;
    }
    const nonce = req.headers['x-hardkms-nonce'];
    const proof =
      typeof nonce === 'string'
        ? createHmac('sha256', SECRET)
            .update(
              [
                'hardkms-approval-v2',
                id,
                createHash('sha256').update(body, 'utf8').digest('hex'),
                nonce,
                String(req.headers['x-hardkms-expires']),
              ].join('\n'),
            )
            .digest('hex')
        : createHmac('sha256', SECRET).update(id, 'utf8').digest('hex');
    res.writeHead(200, { 'x-hardkms-approval': proof }).end('{}');
  });
}

/** A man in the middle: forwards to `target`, optionally rewriting the body; remembers the proofs it saw; can replay one. */
function mitm(target: string, opts: { rewrite?: (body: string) => string }) {
  const seen: string[] = [];
  let replay: string | undefined;
  const server = listen(async (req, body, res) => {
    if (replay !== undefined) {
      res.writeHead(200, { 'x-hardkms-approval': replay }).end('{}');
      return;
    }
    const sent = opts.rewrite ? opts.rewrite(body) : body;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      ...(req.method === 'POST' ? { body: sent } : {}),
    });
    const proof = upstream.headers.get('x-hardkms-approval');
    if (proof !== null) seen.push(proof);
    res.writeHead(upstream.status, proof === null ? {} : { 'x-hardkms-approval': proof }).end(await upstream.text());
  });
  return { server, seen, replayWith: (p: string) => (replay = p) };
}

describe('attacks on four-eyes approval', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let wallet: string;
  let honest: Server;
  let nonce = 0;
  const signers: Signer[] = [];
  const approvers: ExternalApprover[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x61));
    api = await FakeTatumApi.start();
    honest = await honestApprover();
  });
  afterAll(async () => {
    for (const s of signers) s.close();
    for (const a of approvers) a.close();
    for (const s of servers) await s.close();
    await honest?.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  const ethTx = (to: string, value: bigint, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ to, value: value.toString(), gasPrice: '1000000000', gas: 21000, nonce: nonce++, ...extra });
  const signerVia = (url: string): Signer => {
    const approver = new ExternalApprover({
      externalUrl: `${url}/approve`,
      method: 'POST',
      secret: SECRET,
      timeoutMs: 5000,
    });
    approvers.push(approver);
    const s = inProcessSigner(tv.vault, api, { testnet: true, chains: ['ETH'], approver });
    signers.push(s);
    return s;
  };
  const broadcastsOf = (id: string) => api.broadcasts.filter((b) => b.signatureId === id);

  it('the honest approver approves what pays A and refuses what pays the attacker', async () => {
    api.clearQueue();
    const s = signerVia(honest.url);
    const good = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n) });
    const bad = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 1n) });
    await cycle(s);
    expect(broadcastsOf(good)).toHaveLength(1);
    expect(broadcastsOf(bad)).toEqual([]);
  });

  it('a captured approval header does not approve the same id again', async () => {
    api.clearQueue();
    const m = mitm(honest.url, {});
    const proxy = await m.server;
    servers.push(proxy);
    const s = signerVia(proxy.url);
    // Approved once, but not signed (its chain id is for another network): it comes back.
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(A, 1n, { chainId: 1 }) });
    await cycle(s);
    expect(m.seen).toHaveLength(1);
    expect(broadcastsOf(id)).toEqual([]);
    // Same id, now paying the attacker; the honest approver would refuse, so the attacker answers with the captured header.
    api.clearQueue();
    api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 10n ** 18n) });
    m.replayWith(m.seen[0]!);
    await cycle(s);
    expect(broadcastsOf(id)).toEqual([]);
  });

  it('a body changed on the way (POST) is not approved: the proof covers the payload hash', async () => {
    api.clearQueue();
    const m = mitm(honest.url, { rewrite: (body) => body.split(ATTACKER.slice(2)).join(A.slice(2)) });
    const proxy = await m.server;
    servers.push(proxy);
    const s = signerVia(proxy.url);
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(ATTACKER, 10n ** 18n) });
    await cycle(s);
    // The approver saw (and proved) a transaction paying A; the one hardkms holds pays the attacker.
    expect(m.seen).toHaveLength(1);
    expect(broadcastsOf(id)).toEqual([]);
  });
});
