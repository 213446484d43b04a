/**
 * FAKE of Tatum Cloud (api.tatum.io) for the tests and the demo: a real HTTP server on 127.0.0.1 (random
 * port) that implements the endpoints the KMS daemon uses, as spec §2 describes them.
 * It is not Tatum and knows nothing Tatum does not publish; where the spec marks Tatum's
 * server behaviour UNCONFIRMED, the choice made here is documented below.
 *
 * Endpoints (all require `x-api-key` = the configured key, else 401):
 * - POST /v3/kms/pending/{chain}  body {signatureIds: string[]} (≤ 25,000, else 400).
 *     Returns the queued, not yet completed pending transactions of that chain that
 *     reference at least one posted id (in `hashes` or `signatures[].id`), in queue order.
 *     ("At least one": Tatum's filter is UNCONFIRMED; this lets tests hand a daemon a
 *     transaction naming a wallet it does not hold. Option `selection: 'all'` instead
 *     requires every referenced id to be posted.) Entries queued with queueRaw() are
 *     returned for their chain whatever the ids (for malformed-input tests). Sets
 *     `x-ttm-kms-latest-version` when configured (§2.8).
 * - POST §2.4 broadcast paths  body {txData, signatureId?}. Forwards txData to the node
 *     configured for that chain (UTXO: `sendrawtransaction`, EVM: `eth_sendRawTransaction`)
 *     or, with no node (or when option `forward` says no), only records it. Returns {txId}; the node's error becomes a 403
 *     `{statusCode, errorCode, message}` like Tatum's error bodies. With a signatureId of a
 *     queued pending tx, that tx is completed (txId set, no longer pending). A second
 *     broadcast for a completed id with the same txData answers the same txId; with other
 *     txData it is refused (403 kms.already.completed) and NOT forwarded.
 * - POST /v3/offchain/withdrawal/broadcast  body {currency, txData, withdrawalId, signatureId}
 *     (§2.5): as above, answers {txId, completed} (`completed` = option withdrawalCompleted,
 *     default true).
 * - POST /v3/tatum/kms/batch  body {errors:[{signatureId, error}]} (§2.6): recorded in
 *     errorReports; the pending tx stays pending (server effect UNCONFIRMED; set
 *     `dropOnErrorReport` to remove it instead). Answers 200 with an empty body.
 * - GET /v3/kms/{id}, PUT /v3/kms/{id}/{txId}, DELETE /v3/kms/{id} (§2.7). GET answers the
 *     pending tx as queued, with `txId` once a broadcast with its signatureId was accepted
 *     (or a PUT completed it), as §2.3 says; a deleted or unknown id is 403 kms.not.found.
 * - §2.10 fill endpoints, for the EVM chains with a node configured: the JSON-RPC proxies
 *     POST /v3/{ethereum|bsc|polygon|…}/web3/{apiKey} and /v3/blockchain/node/{KLAY|CELO}/{apiKey}
 *     (the key in the PATH, as Tatum; no x-api-key needed) forward the JSON-RPC body to the
 *     node as is; GET /v3/{ethereum|bsc|xdc}/transaction/count/{address} answers the node's
 *     'latest' count as a JSON number; GET /v3/blockchain/fee/ETH answers {slow, medium, fast}
 *     in wei (option `ethFee`, else the node's eth_gasPrice ×1, ×2, ×3: Tatum's own figures are
 *     UNCONFIRMED). `web3ChainId` makes the proxy answer another eth_chainId (wrong-network tests).
 *
 * - POST /v3/blockchain/node/SOL/{apiKey} (§2.10, the key in the PATH): the Solana JSON-RPC,
 *     answered by the FakeSolanaRpc given as option `solana` (test/support/sol-rpc.ts).
 * - /v3/egld/node/{apiKey}/… (§2.10): the MultiversX gateway, answered by the FakeEgldGateway
 *     given as option `egld` (test/support/egld-node.ts).
 * - POST /v3/blockchain/node/{cardano-preprod|cardano-mainnet}/{apiKey}/construction/… (§2.10):
 *     Cardano Rosetta, answered by the FakeCardanoRosetta given as option `ada`
 *     (test/support/ada-rosetta.ts); the path's network must be the node's.
 *
 * Test hooks: queue()/queueRaw(), `requests` (every request, including rejected ones),
 * `broadcasts`, `errorReports`, and failNext() to make the next N matching requests answer
 * a status, garbage, a non-array, hang (never answer) or reset the connection.
 *
 * FakeApprover at the bottom is the operator's four-eyes system (§2.9), not Tatum.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Transaction as BtcTransaction } from 'bitcoinjs-lib';
import { keccak256 } from 'ethers';
import {
  chainForBroadcastPath,
  ERROR_BATCH_PATH,
  HEADER_API_KEY,
  HEADER_LATEST_VERSION,
  isTatumChain,
  MAX_SIGNATURE_IDS,
  OFFCHAIN_BROADCAST_PATH,
  TATUM_ETH_FEE_PATH,
  TATUM_TX_COUNT_PATHS,
  TATUM_WEB3_PATHS,
  type TatumChain,
} from '../../src/signer/source/tatum-paths.js';
import { EvmRpc, isAlreadyKnownError, isRpcError, UtxoRpc } from '../../src/signer/sinks/node-rpc.js';
import { approvalProof } from '../../src/signer/pipeline/approval.js';
import { canonicalJson } from '../../src/audit/record.js';
import { xrpTxHash } from '../../src/chains/xrp/sign.js';
import { TATUM_SOL_RPC_PATH } from '../../src/signer/sinks/sol-rpc.js';
import { adaTxHash } from '../../src/chains/ada/sign.js';
import { TATUM_EGLD_NODE_PATH } from '../../src/signer/sinks/egld-node.js';
import { egldTxHash } from '../../src/chains/egld/sign.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names, as node:http gives them. */
  headers: http.IncomingHttpHeaders;
  bodyText: string;
  /** Parsed body, or undefined when empty / not JSON. */
  json: unknown;
  /** Status answered (undefined for hang / reset). */
  status?: number;
}

export interface RecordedBroadcast {
  kind: 'blockchain' | 'offchain';
  chain: TatumChain;
  txData: string;
  signatureId?: string;
  withdrawalId?: string;
  /** txId answered; undefined when the broadcast was refused. */
  txId?: string;
  /** Node or fake error message when refused. */
  error?: string;
}

export type FailureKind =
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'garbage' } // 200 with a body that is not JSON
  | { kind: 'json'; body: unknown } // 200 with this JSON (e.g. an object where an array is due)
  | { kind: 'hang' } // never answers (until stop())
  | { kind: 'reset' }; // destroys the connection

export interface FailureRule {
  failure: FailureKind;
  /** How many matching requests still fail. */
  remaining: number;
  method?: string;
  /** Exact path, or a RegExp tested against the path. Absent matches every path. */
  path?: string | RegExp;
}

export type ChainNode = { kind: 'utxo'; url: string } | { kind: 'evm'; url: string };

/** The Solana JSON-RPC behind the SOL proxy (test/support/sol-rpc.ts is one): one request body → its response body. */
export interface MountedSolanaRpc {
  handle(body: unknown): unknown;
}

/** The MultiversX gateway behind the EGLD proxy (test/support/egld-node.ts is one). */
export interface MountedEgldGateway {
  handle(method: string, path: string, body: unknown): { status: number; json: unknown };
}

/** Cardano Rosetta behind the ADA node proxy (test/support/ada-rosetta.ts is one); `network` is the one it serves. */
export interface MountedCardanoRosetta {
  readonly network: string;
  handle(method: string, path: string, body: unknown): { status: number; json: unknown };
}

export interface FakeTatumOptions {
  apiKey?: string;
  /** Node per chain to forward broadcasts to. Chains without one only record. */
  nodes?: Partial<Record<TatumChain, ChainNode>>;
  selection?: 'any' | 'all';
  dropOnErrorReport?: boolean;
  withdrawalCompleted?: boolean;
  /** Value of x-ttm-kms-latest-version on pending responses. */
  latestVersionHeader?: string;
  /** GET /v3/blockchain/fee/ETH answer; default from the ETH node's eth_gasPrice. */
  ethFee?: { slow: number | string; medium: number | string; fast: number | string };
  /** eth_chainId the web3 proxies answer instead of the node's (a proxy of the wrong network). */
  web3ChainId?: number;
  /** The Solana node behind /v3/blockchain/node/SOL/{apiKey}. */
  solana?: MountedSolanaRpc;
  /** Whether a broadcast goes to the chain's node (default: always); false only records it (a format the node cannot take, e.g. CIP-64 on Hardhat). */
  forward?: (chain: TatumChain, txData: string) => boolean;
  /** The MultiversX gateway behind /v3/egld/node/{apiKey}/…. */
  egld?: MountedEgldGateway;
  /** Cardano Rosetta behind /v3/blockchain/node/cardano-{preprod|mainnet}/{apiKey}/… (test/support/ada-rosetta.ts is one). */
  ada?: MountedCardanoRosetta;
  /**
   * Completed pending transactions are still listed by POST /v3/kms/pending (as they were
   * queued, without txId), as a list that lags behind the broadcasts would (whether Tatum's
   * does is UNCONFIRMED); GET /v3/kms/{id} shows their txId all the same. Default false.
   */
  listCompleted?: boolean;
}

interface QueuedEntry {
  /** What the server returns (possibly malformed on purpose). */
  body: Record<string, unknown>;
  chain: string;
  raw: boolean;
  /** Sent verbatim as this entry's JSON text (repeated keys, nesting JSON.stringify cannot redo). */
  text?: string;
  txId?: string;
  txData?: string;
  deleted: boolean;
}

/** 24 lowercase hex characters, like Tatum's pending transaction ids. */
export function newPendingId(): string {
  return randomBytes(12).toString('hex');
}

export class FakeTatumApi {
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  readonly broadcasts: RecordedBroadcast[] = [];
  readonly errorReports: { signatureId: string; error: string }[] = [];
  private readonly entries: QueuedEntry[] = [];
  private readonly rules: FailureRule[] = [];
  private readonly hung = new Set<http.ServerResponse>();
  private readonly nodeClients = new Map<TatumChain, EvmRpc | UtxoRpc>();
  private readonly options: FakeTatumOptions;

  private constructor(
    private readonly server: http.Server,
    options: FakeTatumOptions,
  ) {
    this.options = options;
    this.apiKey = options.apiKey ?? 'test-api-key';
    for (const [chain, node] of Object.entries(options.nodes ?? {}) as [TatumChain, ChainNode][]) {
      this.nodeClients.set(chain, node.kind === 'evm' ? new EvmRpc({ url: node.url }) : new UtxoRpc({ url: node.url }));
    }
  }

  static async start(options: FakeTatumOptions = {}): Promise<FakeTatumApi> {
    const server = http.createServer();
    const api = new FakeTatumApi(server, options);
    server.on('request', (req, res) => void api.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  /** Base URL, to use as TATUM_API_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Queues a pending transaction (§2.3 shape). `id` is generated when absent; returns it.
   * The object is returned to the daemon as given (plus the id).
   */
  queue(
    tx: { chain: TatumChain; serializedTransaction: string; hashes: string[]; id?: string } & Record<string, unknown>,
  ): string {
    const id = tx.id ?? newPendingId();
    this.entries.push({ body: { ...tx, id }, chain: tx.chain, raw: false, deleted: false });
    return id;
  }

  /** Replaces fields of a queued pending transaction (the application rebuilt its payload); `undefined` removes a field. */
  update(id: string, fields: Record<string, unknown>): void {
    const e = this.find(id);
    if (e === undefined) throw new Error(`no queued pending transaction ${id}`);
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete e.body[k];
      else e.body[k] = v;
    }
  }

  /** Queues an arbitrary JSON value for `chain`, returned on every poll of it until removed. */
  queueRaw(chain: string, value: unknown): void {
    this.entries.push({ body: value as Record<string, unknown>, chain, raw: true, deleted: false });
  }

  /** Queues a JSON text for `chain`, spliced verbatim into every pending response of it until removed. */
  queueText(chain: string, text: string): void {
    this.entries.push({ body: {}, chain, raw: true, text, deleted: false });
  }

  /** Removes everything queued. */
  clearQueue(): void {
    this.entries.length = 0;
  }

  /** The pending tx as GET /v3/kms/{id} would return it, or undefined. */
  pending(id: string): Record<string, unknown> | undefined {
    const e = this.find(id);
    return e === undefined ? undefined : this.view(e);
  }

  /** Ids still pending (not completed, not deleted). */
  pendingIds(): string[] {
    return this.entries.filter((e) => !e.raw && !e.deleted && e.txId === undefined).map((e) => String(e.body.id));
  }

  /** The next `count` requests matching `match` fail as `failure`. */
  failNext(failure: FailureKind, count = 1, match: { method?: string; path?: string | RegExp } = {}): void {
    this.rules.push({ failure, remaining: count, ...match });
  }

  requestsTo(path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    for (const c of this.nodeClients.values()) c.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    let json: unknown;
    try {
      json = bodyText === '' ? undefined : (JSON.parse(bodyText) as unknown);
    } catch {
      json = undefined;
    }
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      bodyText,
      json,
    };
    this.requests.push(record);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };

    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.method === undefined || r.method === record.method) &&
        (r.path === undefined || (typeof r.path === 'string' ? r.path === record.path : r.path.test(record.path))),
    );
    if (rule !== undefined) {
      rule.remaining -= 1;
      const f = rule.failure;
      switch (f.kind) {
        case 'status':
          return send(
            f.status,
            f.body ?? { statusCode: f.status, errorCode: 'fake.injected', message: 'Injected failure' },
          );
        case 'garbage':
          return send(200, '<html>502 Bad Gateway</html>\u0000{');
        case 'json':
          return send(200, f.body);
        case 'hang':
          this.hung.add(res);
          return;
        case 'reset':
          req.socket.destroy();
          return;
      }
    }

    if (record.method === 'POST' && record.path.startsWith(TATUM_SOL_RPC_PATH)) {
      if (decodeURIComponent(record.path.slice(TATUM_SOL_RPC_PATH.length)) !== this.apiKey) {
        return send(403, {
          statusCode: 403,
          errorCode: 'subscription.not.active',
          message: 'Invalid API key in path.',
        });
      }
      if (this.options.solana === undefined)
        return send(403, { statusCode: 403, errorCode: 'fake.no.node', message: 'No SOL node behind the RPC proxy.' });
      return send(200, this.options.solana.handle(json));
    }
    if (record.path.startsWith(TATUM_EGLD_NODE_PATH)) {
      const rest = record.path.slice(TATUM_EGLD_NODE_PATH.length);
      const slash = rest.indexOf('/');
      if (slash < 0 || decodeURIComponent(rest.slice(0, slash)) !== this.apiKey) {
        return send(403, {
          statusCode: 403,
          errorCode: 'subscription.not.active',
          message: 'Invalid API key in path.',
        });
      }
      if (this.options.egld === undefined)
        return send(403, { statusCode: 403, errorCode: 'fake.no.node', message: 'No EGLD node behind the proxy.' });
      const r = this.options.egld.handle(record.method, rest.slice(slash), json);
      return send(r.status, r.json);
    }
    const rosetta = /^\/v3\/blockchain\/node\/cardano-(preprod|mainnet)\/([^/]+)(\/.*)$/.exec(record.path);
    if (rosetta !== null) {
      if (decodeURIComponent(rosetta[2]!) !== this.apiKey) {
        return send(403, {
          statusCode: 403,
          errorCode: 'subscription.not.active',
          message: 'Invalid API key in path.',
        });
      }
      const node = this.options.ada;
      if (node === undefined || node.network !== rosetta[1])
        return send(403, {
          statusCode: 403,
          errorCode: 'fake.no.node',
          message: `No cardano-${rosetta[1]} node behind the proxy.`,
        });
      const r = node.handle(record.method, rosetta[3]!, json);
      return send(r.status, r.json);
    }
    const web3 = web3Route(record.path);
    if (web3 !== undefined && record.method === 'POST') {
      if (web3.key !== this.apiKey)
        return send(403, {
          statusCode: 403,
          errorCode: 'subscription.not.active',
          message: 'Invalid API key in path.',
        });
      return this.web3Route(web3.chain, record, send);
    }
    if (req.headers[HEADER_API_KEY] !== this.apiKey) {
      return send(401, {
        statusCode: 401,
        errorCode: 'subscription.not.active',
        message: 'Unauthorized. Missing or invalid x-api-key.',
      });
    }
    try {
      await this.route(record, send);
    } catch (e) {
      send(500, { statusCode: 500, errorCode: 'fake.internal', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private async route(
    r: RecordedRequest,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    const m = r.method;
    const pendingMatch = /^\/v3\/kms\/pending\/([A-Z]+)$/.exec(r.path);
    if (m === 'POST' && pendingMatch !== null) return this.pendingRoute(pendingMatch[1] as string, r, send);
    if (m === 'POST' && r.path === ERROR_BATCH_PATH) return this.batchRoute(r, send);
    if (m === 'POST' && r.path === OFFCHAIN_BROADCAST_PATH) return this.broadcastRoute('offchain', undefined, r, send);
    const chain = chainForBroadcastPath(r.path);
    if (m === 'POST' && chain !== undefined) return this.broadcastRoute('blockchain', chain, r, send);

    const countChain = Object.entries(TATUM_TX_COUNT_PATHS).find(([, p]) => r.path.startsWith(p!))?.[0] as
      TatumChain | undefined;
    if (m === 'GET' && countChain !== undefined) {
      const node = this.nodeClients.get(countChain);
      if (!(node instanceof EvmRpc))
        return send(403, { statusCode: 403, errorCode: 'fake.no.node', message: `No ${countChain} node.` });
      const address = decodeURIComponent(r.path.slice(TATUM_TX_COUNT_PATHS[countChain]!.length));
      return send(200, Number(await node.getTransactionCount(address, 'latest')));
    }
    if (m === 'GET' && r.path === TATUM_ETH_FEE_PATH) {
      if (this.options.ethFee !== undefined) return send(200, this.options.ethFee);
      const node = this.nodeClients.get('ETH');
      if (!(node instanceof EvmRpc))
        return send(403, { statusCode: 403, errorCode: 'fake.no.node', message: 'No ETH node.' });
      const p = await node.gasPrice();
      return send(200, {
        slow: Number(p),
        medium: Number(p * 2n),
        fast: Number(p * 3n),
        time: new Date().toISOString(),
        block: 0,
      });
    }

    const idMatch = /^\/v3\/kms\/([^/]+)(?:\/([^/]+))?$/.exec(r.path);
    if (idMatch !== null) {
      const e = this.find(decodeURIComponent(idMatch[1] as string));
      if (e === undefined || e.deleted)
        return send(403, { statusCode: 403, errorCode: 'kms.not.found', message: 'Pending transaction not found.' });
      if (m === 'GET' && idMatch[2] === undefined) return send(200, this.view(e));
      if (m === 'PUT' && idMatch[2] !== undefined) {
        e.txId = decodeURIComponent(idMatch[2]);
        return send(204, undefined);
      }
      if (m === 'DELETE' && idMatch[2] === undefined) {
        e.deleted = true;
        return send(204, undefined);
      }
    }
    send(404, { statusCode: 404, errorCode: 'fake.no.route', message: `No route ${m} ${r.path}` });
  }

  /** Forwards one JSON-RPC body to the chain's node untouched (except eth_chainId with option web3ChainId). */
  private async web3Route(chain: TatumChain, r: RecordedRequest, send: (s: number, b: unknown) => void): Promise<void> {
    const node = this.nodeClients.get(chain);
    if (!(node instanceof EvmRpc))
      return send(403, {
        statusCode: 403,
        errorCode: 'fake.no.node',
        message: `No ${chain} node behind the web3 proxy.`,
      });
    const body = r.json as { id?: unknown; method?: unknown; params?: unknown } | undefined;
    if (typeof body?.method !== 'string')
      return send(400, { statusCode: 400, errorCode: 'validation.failed', message: 'JSON-RPC body expected.' });
    if (body.method === 'eth_chainId' && this.options.web3ChainId !== undefined) {
      return send(200, { jsonrpc: '2.0', id: body.id ?? null, result: '0x' + this.options.web3ChainId.toString(16) });
    }
    try {
      const result = await node.rpc.call(body.method, Array.isArray(body.params) ? (body.params as unknown[]) : []);
      send(200, { jsonrpc: '2.0', id: body.id ?? null, result });
    } catch (e) {
      if (!isRpcError(e)) throw e;
      send(200, { jsonrpc: '2.0', id: body.id ?? null, error: { code: e.rpcCode ?? -32000, message: e.rpcMessage } });
    }
  }

  private pendingRoute(
    chain: string,
    r: RecordedRequest,
    send: (s: number, b: unknown, h?: Record<string, string>) => void,
  ): void {
    const body = r.json as { signatureIds?: unknown } | undefined;
    const ids = body?.signatureIds;
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
      return send(400, {
        statusCode: 400,
        errorCode: 'validation.failed',
        message: 'signatureIds must be an array of strings.',
      });
    }
    if (ids.length > MAX_SIGNATURE_IDS) {
      return send(400, {
        statusCode: 400,
        errorCode: 'validation.failed',
        message: `At most ${MAX_SIGNATURE_IDS} signatureIds.`,
      });
    }
    if (!isTatumChain(chain))
      return send(400, { statusCode: 400, errorCode: 'validation.failed', message: `Unsupported chain ${chain}.` });
    const posted = new Set(ids as string[]);
    const out: string[] = [];
    for (const e of this.entries) {
      if (e.chain !== chain || e.deleted) continue;
      if (e.raw) {
        out.push(e.text ?? JSON.stringify(e.body));
        continue;
      }
      if (e.txId !== undefined && this.options.listCompleted !== true) continue;
      const refs = walletIds(e.body);
      const hit =
        this.options.selection === 'all'
          ? refs.length > 0 && refs.every((id) => posted.has(id))
          : refs.some((id) => posted.has(id));
      if (hit) out.push(JSON.stringify(e.body));
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.latestVersionHeader !== undefined)
      headers[HEADER_LATEST_VERSION] = this.options.latestVersionHeader;
    send(200, `[${out.join(',')}]`, headers);
  }

  private batchRoute(r: RecordedRequest, send: (s: number, b: unknown) => void): void {
    const errors = (r.json as { errors?: unknown } | undefined)?.errors;
    if (!Array.isArray(errors))
      return send(400, { statusCode: 400, errorCode: 'validation.failed', message: 'errors must be an array.' });
    for (const x of errors as { signatureId?: unknown; error?: unknown }[]) {
      if (typeof x?.signatureId !== 'string' || typeof x.error !== 'string') {
        return send(400, {
          statusCode: 400,
          errorCode: 'validation.failed',
          message: 'Each error needs signatureId and error strings.',
        });
      }
    }
    for (const x of errors as { signatureId: string; error: string }[]) {
      this.errorReports.push({ signatureId: x.signatureId, error: x.error });
      if (this.options.dropOnErrorReport === true) {
        const e = this.find(x.signatureId);
        if (e !== undefined) e.deleted = true;
      }
    }
    send(200, undefined);
  }

  private async broadcastRoute(
    kind: 'blockchain' | 'offchain',
    pathChain: TatumChain | undefined,
    r: RecordedRequest,
    send: (s: number, b: unknown) => void,
  ): Promise<void> {
    const b = (r.json ?? {}) as { txData?: unknown; signatureId?: unknown; currency?: unknown; withdrawalId?: unknown };
    const chain = kind === 'offchain' ? b.currency : pathChain;
    if (!isTatumChain(chain))
      return send(400, { statusCode: 400, errorCode: 'validation.failed', message: 'currency is not supported.' });
    if (typeof b.txData !== 'string' || b.txData.length === 0) {
      return send(400, {
        statusCode: 400,
        errorCode: 'validation.failed',
        message: 'txData must be a non-empty string.',
      });
    }
    if (b.signatureId !== undefined && (typeof b.signatureId !== 'string' || b.signatureId.length !== 24)) {
      return send(400, {
        statusCode: 400,
        errorCode: 'validation.failed',
        message: 'signatureId must be 24 characters.',
      });
    }
    if (kind === 'offchain' && typeof b.withdrawalId !== 'string') {
      return send(400, { statusCode: 400, errorCode: 'validation.failed', message: 'withdrawalId must be a string.' });
    }
    const rec: RecordedBroadcast = { kind, chain, txData: b.txData };
    if (typeof b.signatureId === 'string') rec.signatureId = b.signatureId;
    if (typeof b.withdrawalId === 'string') rec.withdrawalId = b.withdrawalId;
    this.broadcasts.push(rec);

    const entry = rec.signatureId === undefined ? undefined : this.find(rec.signatureId);
    if (rec.signatureId !== undefined && (entry === undefined || entry.deleted)) {
      rec.error = 'pending transaction not found';
      return send(403, {
        statusCode: 403,
        errorCode: 'kms.not.found',
        message: `Pending transaction ${rec.signatureId} not found.`,
      });
    }
    if (entry?.txId !== undefined && entry.txData !== rec.txData) {
      rec.error = 'already completed with another transaction';
      return send(403, {
        statusCode: 403,
        errorCode: 'kms.already.completed',
        message: 'Pending transaction already completed.',
      });
    }

    let txId: string;
    try {
      txId = await this.submit(chain, rec.txData);
    } catch (e) {
      if (isAlreadyKnownError(e) && entry?.txId !== undefined) {
        txId = entry.txId;
      } else {
        rec.error = isRpcError(e) ? e.rpcMessage : e instanceof Error ? e.message : String(e);
        return send(403, {
          statusCode: 403,
          errorCode: kind === 'offchain' ? 'broadcast.failed.withdrawalId' : `${chain.toLowerCase()}.broadcast.failed`,
          message: `Unable to broadcast transaction. ${rec.error}`,
        });
      }
    }
    rec.txId = txId;
    if (entry !== undefined) {
      entry.txId = txId;
      entry.txData = rec.txData;
    }
    send(200, kind === 'offchain' ? { txId, completed: this.options.withdrawalCompleted ?? true } : { txId });
  }

  private async submit(chain: TatumChain, txData: string): Promise<string> {
    const node = this.nodeClients.get(chain);
    if (node !== undefined && (this.options.forward?.(chain, txData) ?? true)) return node.sendRawTransaction(txData);
    // SOL: txData is already the transaction's signature, i.e. its id (the signer submitted it).
    if (chain === 'SOL') return txData;
    // A signed EGLD transaction is JSON; anything else (a client test's placeholder) gets a local id without loading sdk-core.
    if (chain === 'EGLD' && txData.startsWith('{')) return egldTxHash(txData);
    // A signed ADA transaction is Rosetta's envelope (CBOR array, 0x82…); its id is the body hash.
    if (chain === 'ADA' && txData.startsWith('82')) return adaTxHash(txData);
    return chain === 'XRP' ? xrpTxHash(txData) : localTxId(txData);
  }

  private find(id: string): QueuedEntry | undefined {
    return this.entries.find((e) => !e.raw && e.body.id === id);
  }

  private view(e: QueuedEntry): Record<string, unknown> {
    return e.txId === undefined ? e.body : { ...e.body, txId: e.txId };
  }
}

/** {chain, key} when `path` is one of Tatum's JSON-RPC proxies (§2.10). */
function web3Route(path: string): { chain: TatumChain; key: string } | undefined {
  for (const [chain, prefix] of Object.entries(TATUM_WEB3_PATHS) as [TatumChain, string][]) {
    if (path.startsWith(prefix) && path.length > prefix.length && !path.slice(prefix.length).includes('/')) {
      return { chain, key: decodeURIComponent(path.slice(prefix.length)) };
    }
  }
  return undefined;
}

function walletIds(body: Record<string, unknown>): string[] {
  const ids: string[] = [];
  if (Array.isArray(body.hashes)) for (const h of body.hashes) if (typeof h === 'string') ids.push(h);
  if (Array.isArray(body.signatures)) {
    for (const s of body.signatures as { id?: unknown }[]) if (typeof s?.id === 'string') ids.push(s.id);
  }
  return ids;
}

/** The id a node would give this raw tx: keccak for 0x-RLP, txid for Bitcoin-family hex, else sha256. */
function localTxId(txData: string): string {
  if (/^0x[0-9a-fA-F]+$/.test(txData)) return keccak256(txData);
  if (/^[0-9a-fA-F]+$/.test(txData) && txData.length % 2 === 0) {
    try {
      return BtcTransaction.fromHex(txData).getId();
    } catch {
      // not a Bitcoin-family transaction
    }
  }
  return createHash('sha256').update(txData).digest('hex');
}

// ---------------------------------------------------------------------------------------

export interface ApproverRecord {
  method: string;
  path: string;
  bodyText: string;
  json: unknown;
  headers: http.IncomingHttpHeaders;
}

/**
 * The operator's four-eyes approval service (§2.9), faked: answers `{base}/{id}`.
 * Approves ids in `approved` (2xx), denies others (404). With a `secret`, adds the
 * x-hardkms-approval proof to approvals as docs/runbook.md describes it: HMAC over the id,
 * the SHA-256 of the payload (of the POST body it received; in GET mode of its own copy
 * from `payloadOf`, else the hash hardkms announced), the nonce and the expiry hardkms sent.
 * Modes for failure tests: 'down' (server closed), 'hang' (never answers), 'redirect' (302
 * to `redirectTo`), 'wrong-mac', 'no-mac', 'v1-mac' (the old HMAC of the id alone).
 */
export class FakeApprover {
  readonly approved = new Set<string>();
  readonly requests: ApproverRecord[] = [];
  /** Every proof header it answered, in order (what an eavesdropper would capture). */
  readonly proofs: string[] = [];
  mode: 'normal' | 'hang' | 'redirect' | 'wrong-mac' | 'no-mac' | 'v1-mac' = 'normal';
  /** Answer only after this many ms (a human approver taking their time). */
  delayMs = 0;
  /** Answer only once this settles (a test that must act while the daemon waits for the approver). */
  hold: Promise<void> | undefined;
  redirectTo = 'http://127.0.0.1:9/';
  status = 200;
  /** GET mode: the approver's own copy of a pending transaction (what it would fetch from Tatum). */
  payloadOf: ((id: string) => unknown) | undefined;
  private readonly hung = new Set<http.ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    private readonly secret: Uint8Array | undefined,
    readonly basePath: string,
  ) {}

  static async start(options: { secret?: Uint8Array; basePath?: string } = {}): Promise<FakeApprover> {
    const server = http.createServer();
    const a = new FakeApprover(server, options.secret, options.basePath ?? '/approve');
    server.on('request', (req, res) => void a.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return a;
  }

  /** The URL to configure as --externalUrl. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.basePath}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = bodyText === '' ? undefined : (JSON.parse(bodyText) as unknown);
    } catch {
      json = undefined;
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    this.requests.push({ method: req.method ?? '', path, bodyText, json, headers: req.headers });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.hold !== undefined) await this.hold;
    if (this.mode === 'hang') {
      this.hung.add(res);
      return;
    }
    if (this.mode === 'redirect') {
      res.writeHead(302, { location: this.redirectTo });
      res.end();
      return;
    }
    const id = path.startsWith(`${this.basePath}/`) ? decodeURIComponent(path.slice(this.basePath.length + 1)) : '';
    if (!this.approved.has(id)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"message":"Transaction not found"}');
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.secret !== undefined && this.mode !== 'no-mac') {
      const key = this.mode === 'wrong-mac' ? Buffer.from('not the secret') : this.secret;
      const own = this.payloadOf?.(id);
      const payloadSha256 =
        req.method === 'POST'
          ? createHash('sha256').update(bodyText, 'utf8').digest('hex')
          : own !== undefined
            ? createHash('sha256').update(canonicalJson(own), 'utf8').digest('hex')
            : String(req.headers['x-hardkms-payload-sha256'] ?? '');
      const proof =
        this.mode === 'v1-mac'
          ? createHmac('sha256', key).update(id, 'utf8').digest('hex')
          : approvalProof(key, {
              pendingId: id,
              payloadSha256,
              nonce: String(req.headers['x-hardkms-nonce'] ?? ''),
              expires: String(req.headers['x-hardkms-expires'] ?? ''),
            });
      headers['x-hardkms-approval'] = proof;
      this.proofs.push(proof);
    }
    res.writeHead(this.status, headers);
    res.end('{"approved":true}');
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
