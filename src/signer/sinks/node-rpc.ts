/**
 * Minimal JSON-RPC clients for the operator's own nodes (`HARDKMS_RPC_<CHAIN>`): broadcast
 * there instead of Tatum, and fill missing EVM gas / nonce / gas price from it.
 *
 * Node credentials come from the URL's userinfo (`http://user:pass@host:port/`) and are
 * sent as HTTP basic auth; errors show the URL without them (see http.ts redactUrl).
 * Only what the daemon and the tests need is here, plus `call()` for anything else.
 */
import { HardkmsError } from '../../errors.js';
import type { TatumChain } from '../source/tatum-paths.js';
import {
  bodyKind,
  HttpClient,
  HttpError,
  HTTP_ERROR_CODES,
  parseJsonBody,
  redactUrl,
  type HttpResponse,
} from '../http.js';
import { readEnvFor, type EnvSource } from '../../config/env.js';
import { check, expecting, isPlainObject, kindOf, looseJsonObject, parseOrThrow, v } from '../../validate.js';

const RPC_ERROR_CODE = 'RPC_ERROR';
const RPC_BAD_RESPONSE_CODE = 'RPC_BAD_RESPONSE';

/** The node answered a JSON-RPC error object. */
export class RpcError extends HardkmsError {
  readonly rpcCode: number | undefined;
  readonly rpcMessage: string;
  readonly rpcData: unknown;

  /**
   * `error` is the answer's error member: an object whose string `message` is the node's
   * reason (shown: nodes write it for operators, and it decides "already known"), or a bare
   * string. Anything else is named by kind: its text may be anything the node repeats.
   */
  constructor(method: string, target: string, error: unknown) {
    const o = isPlainObject(error) ? error : undefined;
    const code = typeof o?.code === 'number' ? o.code : undefined;
    const rpcMessage =
      typeof error === 'string'
        ? error
        : o === undefined
          ? `the node's error is ${kindOf(error)}`
          : typeof o.message === 'string'
            ? o.message
            : `the node's error has no message (${code === undefined ? `code: ${kindOf(o.code)}` : `code ${code}`})`;
    super(RPC_ERROR_CODE, `${method} on ${target} failed: ${rpcMessage}`);
    this.name = 'RpcError';
    this.rpcCode = code;
    this.rpcMessage = rpcMessage;
    this.rpcData = o?.data;
  }
}

export function isRpcError(e: unknown): e is RpcError {
  return e instanceof RpcError;
}

/** `HARDKMS_RPC_<CHAIN>` from the environment, if set and non-empty. */
export function nodeRpcUrlFromEnv(chain: TatumChain, env?: EnvSource): string | undefined {
  const v = readEnvFor('HARDKMS_RPC_', chain, env)?.trim();
  return v === '' ? undefined : v;
}

export interface JsonRpcClientOptions {
  url: string;
  /** Deadline per call, ms. Default 30 000. */
  timeoutMs?: number;
  http?: HttpClient;
  /**
   * '2.0' (EVM nodes) or '1.0' (Bitcoin-family nodes, which answer errors with HTTP 500
   * and a JSON body; both versions are read the same way). Default '2.0'.
   */
  version?: '1.0' | '2.0';
  /** A secret inside `url` (an API key in the path) that errors and `target` must not show. */
  secretInUrl?: string;
}

/** A JSON-RPC answer: an object with `result` or `error` (both read below; other members ignored). */
const rpcEnvelope = looseJsonObject(
  { result: v.optional(v.unknown()), error: v.optional(v.unknown()) },
  'a JSON-RPC object',
);

export class JsonRpcClient {
  readonly target: string;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly version: '1.0' | '2.0';
  private readonly secretInUrl: string | undefined;
  private nextId = 1;

  constructor(options: JsonRpcClientOptions) {
    this.url = options.url;
    this.target = redactUrl(options.url, options.secretInUrl);
    this.secretInUrl = options.secretInUrl;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.http = options.http ?? new HttpClient({ timeoutMs: this.timeoutMs });
    this.ownsHttp = options.http === undefined;
    this.version = options.version ?? '2.0';
  }

  /** One call; resolves with `result` (which may be null), rejects with RpcError or HttpError. */
  async call(method: string, params: unknown[] = []): Promise<unknown> {
    const id = this.nextId++;
    const res = await this.http.request({
      method: 'POST',
      url: this.url,
      json: { jsonrpc: this.version, id, method, params },
      timeoutMs: this.timeoutMs,
      throwOnStatus: false,
      ...(this.secretInUrl === undefined ? {} : { secretInUrl: this.secretInUrl }),
    });
    let body: unknown;
    try {
      body = parseJsonBody(res, `${method} on ${this.target}`);
    } catch (e) {
      // A non-JSON error page (401 from a proxy, 502) says more as a status error.
      if (res.status < 200 || res.status > 299) throw statusError(method, this.target, res);
      throw e;
    }
    const envelope = check(rpcEnvelope, body);
    if (!envelope.ok) {
      throw new HardkmsError(
        RPC_BAD_RESPONSE_CODE,
        `${method} on ${this.target}: response is not a JSON-RPC object (${envelope.text})`,
      );
    }
    const o = envelope.value;
    if (o.error !== undefined && o.error !== null) throw new RpcError(method, this.target, o.error);
    if (res.status < 200 || res.status > 299) throw statusError(method, this.target, res);
    if (!('result' in o)) {
      throw new HardkmsError(
        RPC_BAD_RESPONSE_CODE,
        `${method} on ${this.target}: response has neither result nor error`,
      );
    }
    return o.result;
  }

  close(): void {
    if (this.ownsHttp) this.http.close();
  }
}

/**
 * A node's non-2xx answer that is no JSON-RPC error: the status and the kind of body, never
 * the body (a node's or a proxy's page may repeat the request, its credentials included; the
 * error goes to the log and Tatum's error batch).
 */
function statusError(method: string, target: string, res: HttpResponse): HttpError {
  const status = res.status;
  return new HttpError(HTTP_ERROR_CODES.status, `${method} on ${target} answered HTTP ${status} (${bodyKind(res)})`, {
    target: `POST ${target}`,
    status,
    hint:
      status === 401 || status === 403
        ? 'Check the node credentials in the RPC URL (http://user:pass@host:port).'
        : undefined,
  });
}

/**
 * True when a broadcast failed only because the node already has the transaction
 * (mempool or chain). Re-sending the same raw transaction after a crash produces this,
 * and it means the broadcast is done.
 */
export function isAlreadyKnownError(e: unknown): boolean {
  if (!isRpcError(e)) return false;
  if (e.rpcCode === -27) return true; // Bitcoin-family RPC_VERIFY_ALREADY_IN_CHAIN
  return /already known|already in (the )?(mempool|block ?chain|utxo set)|txn-already-(known|in-mempool)|known transaction/i.test(
    e.rpcMessage,
  );
}

// ---------------------------------------------------------------------------------------
// EVM

export interface EvmCallRequest {
  from?: string;
  to?: string;
  value?: bigint;
  data?: string;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}

interface EvmReceipt {
  transactionHash: string;
  blockNumber: bigint;
  /** 1 success, 0 reverted (post-Byzantium). */
  status: number;
  gasUsed: bigint;
  contractAddress: string | null;
  raw: Record<string, unknown>;
}

export class EvmRpc {
  readonly rpc: JsonRpcClient;

  constructor(options: JsonRpcClientOptions | JsonRpcClient) {
    this.rpc = options instanceof JsonRpcClient ? options : new JsonRpcClient({ ...options, version: '2.0' });
  }

  async chainId(): Promise<bigint> {
    return quantity(await this.rpc.call('eth_chainId'), 'eth_chainId');
  }

  /** Nonce for the next transaction of `address`, counting the node's pending ones by default. */
  async getTransactionCount(address: string, block: 'pending' | 'latest' = 'pending'): Promise<bigint> {
    return quantity(await this.rpc.call('eth_getTransactionCount', [address, block]), 'eth_getTransactionCount');
  }

  async gasPrice(): Promise<bigint> {
    return quantity(await this.rpc.call('eth_gasPrice'), 'eth_gasPrice');
  }

  async maxPriorityFeePerGas(): Promise<bigint> {
    return quantity(await this.rpc.call('eth_maxPriorityFeePerGas'), 'eth_maxPriorityFeePerGas');
  }

  /** baseFeePerGas of the latest block, or undefined before London. */
  async latestBaseFee(): Promise<bigint | undefined> {
    const block = checked(latestBlock, await this.rpc.call('eth_getBlockByNumber', ['latest', false]), 'latest block');
    const fee = block?.baseFeePerGas;
    return fee === undefined || fee === null ? undefined : BigInt(fee);
  }

  async estimateGas(tx: EvmCallRequest): Promise<bigint> {
    return quantity(await this.rpc.call('eth_estimateGas', [callObject(tx)]), 'eth_estimateGas');
  }

  async getBalance(address: string, block = 'latest'): Promise<bigint> {
    return quantity(await this.rpc.call('eth_getBalance', [address, block]), 'eth_getBalance');
  }

  async blockNumber(): Promise<bigint> {
    return quantity(await this.rpc.call('eth_blockNumber'), 'eth_blockNumber');
  }

  /** eth_call; returns the 0x-hex return data. */
  async call(tx: EvmCallRequest, block = 'latest'): Promise<string> {
    const r = await this.rpc.call('eth_call', [callObject(tx), block]);
    if (typeof r !== 'string' || !/^0x[0-9a-fA-F]*$/.test(r)) throw badResult('eth_call', r);
    return r;
  }

  /** Returns the transaction hash. */
  async sendRawTransaction(rawTx: string): Promise<string> {
    const r = await this.rpc.call('eth_sendRawTransaction', [rawTx]);
    if (typeof r !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(r)) throw badResult('eth_sendRawTransaction', r);
    return r;
  }

  /** Unsigned transaction sent from an account the node holds (test nodes only). */
  async sendTransaction(tx: EvmCallRequest): Promise<string> {
    const r = await this.rpc.call('eth_sendTransaction', [callObject(tx)]);
    if (typeof r !== 'string') throw badResult('eth_sendTransaction', r);
    return r;
  }

  async accounts(): Promise<string[]> {
    const r = await this.rpc.call('eth_accounts');
    if (!Array.isArray(r) || !r.every((a) => typeof a === 'string')) throw badResult('eth_accounts', r);
    return r as string[];
  }

  /** null while the transaction is not mined. */
  async getTransactionReceipt(hash: string): Promise<EvmReceipt | null> {
    const r = await this.rpc.call('eth_getTransactionReceipt', [hash]);
    if (r === null) return null;
    const o = checked(receiptRecord, r, 'receipt');
    return {
      transactionHash: o.transactionHash,
      blockNumber: BigInt(o.blockNumber),
      status: Number(BigInt(o.status)),
      gasUsed: BigInt(o.gasUsed),
      contractAddress: typeof o.contractAddress === 'string' ? o.contractAddress : null,
      raw: o,
    };
  }

  close(): void {
    this.rpc.close();
  }
}

function callObject(tx: EvmCallRequest): Record<string, string> {
  const o: Record<string, string> = {};
  if (tx.from !== undefined) o.from = tx.from;
  if (tx.to !== undefined) o.to = tx.to;
  if (tx.data !== undefined) o.data = tx.data;
  for (const k of ['value', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const) {
    const v = tx[k];
    if (v !== undefined) o[k] = `0x${v.toString(16)}`;
  }
  return o;
}

/** An EVM JSON-RPC QUANTITY as the node writes it (0x-hex, no leading zeros required). */
const quantityText = v.pipe(
  v.string(expecting('a 0x-hex quantity')),
  v.regex(/^0x[0-9a-fA-F]{1,64}$/, expecting('a 0x-hex quantity')),
);
const latestBlock = v.nullable(
  looseJsonObject({ baseFeePerGas: v.optional(v.nullable(quantityText)) }, 'a block object or null'),
);
const receiptRecord = looseJsonObject(
  {
    transactionHash: v.pipe(
      v.string(expecting('a 32-byte 0x-hex hash')),
      v.regex(/^0x[0-9a-fA-F]{64}$/, expecting('a 32-byte 0x-hex hash')),
    ),
    blockNumber: quantityText,
    status: quantityText,
    gasUsed: quantityText,
    contractAddress: v.optional(v.unknown()),
  },
  'a receipt object',
);

/** A node's QUANTITY result as a bigint. */
function quantity(result: unknown, what: string): bigint {
  return BigInt(checked(quantityText, result, what));
}

/** A node's result through its schema; what was wrong named by field and kind, never the value. */
function checked<S extends v.GenericSchema>(schema: S, result: unknown, what: string): v.InferOutput<S> {
  return parseOrThrow(
    schema,
    result,
    (text) => new HardkmsError(RPC_BAD_RESPONSE_CODE, `${what}: unexpected result (${text})`),
  );
}

/** The kind of result, never the result: a node's answer is not repeated into logs and error batches. */
function badResult(what: string, v: unknown): HardkmsError {
  return new HardkmsError(RPC_BAD_RESPONSE_CODE, `${what}: unexpected result (${kindOf(v)})`);
}

// ---------------------------------------------------------------------------------------
// UTXO (Bitcoin Core family: litecoind, bitcoind, dogecoind)

export class UtxoRpc {
  readonly rpc: JsonRpcClient;

  constructor(options: JsonRpcClientOptions | JsonRpcClient) {
    this.rpc = options instanceof JsonRpcClient ? options : new JsonRpcClient({ ...options, version: '1.0' });
  }

  call(method: string, params: unknown[] = []): Promise<unknown> {
    return this.rpc.call(method, params);
  }

  /** Returns the txid. */
  async sendRawTransaction(hex: string): Promise<string> {
    const r = await this.rpc.call('sendrawtransaction', [hex]);
    if (typeof r !== 'string' || !/^[0-9a-f]{64}$/.test(r)) throw badResult('sendrawtransaction', r);
    return r;
  }

  /** Decoded transaction (verbose=true): includes `confirmations` once mined. */
  async getRawTransaction(txid: string): Promise<Record<string, unknown>> {
    const r = await this.rpc.call('getrawtransaction', [txid, true]);
    if (!isPlainObject(r)) throw badResult('getrawtransaction', r);
    return r;
  }

  close(): void {
    this.rpc.close();
  }
}
