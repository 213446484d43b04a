/**
 * Client of the Tatum API endpoints the KMS daemon uses (spec §2.1-2.6, §2.8), or of any
 * server that speaks them (the fake in scripts/lib/tatum-api-server.ts).
 *
 * Each call is one HTTP request with a deadline; nothing is retried here. Retrying is the
 * daemon's decision because it owns the journal: a broadcast that timed out may or may not
 * have reached the node, and only the journal knows whether re-sending is safe (it is, for
 * the same raw transaction). `Backoff` below is the daemon's pacing after API failures.
 */
import { HardkmsError } from '../../errors.js';
import { check, expecting, looseJsonObject, v } from '../../validate.js';
import {
  broadcastPath,
  ERROR_BATCH_PATH,
  HEADER_API_KEY,
  DEFAULT_API_URL,
  HEADER_CLIENT_VERSION,
  HEADER_LATEST_VERSION,
  MAX_SIGNATURE_IDS,
  OFFCHAIN_BROADCAST_CHAINS,
  OFFCHAIN_BROADCAST_PATH,
  pendingByIdPath,
  pendingPath,
  type TatumChain,
} from './tatum-paths.js';
import { HttpClient, isHttpError, redactUrl, type HttpMethod } from '../http.js';
import { validatePending, validatePendingList, type MalformedPending, type PendingTransaction } from './pending.js';
import { isHttpScheme } from '../../http-url.js';

/** Error codes thrown by TatumClient besides HttpError's HTTP_* codes. */
const TATUM_ERROR_CODES = {
  tooManyIds: 'TATUM_TOO_MANY_SIGNATURE_IDS',
  badResponse: 'TATUM_BAD_RESPONSE',
  badRequest: 'TATUM_BAD_REQUEST',
} as const;

interface TatumClientOptions {
  /**
   * The configured API (buildConfig reads and checks TATUM_API_URL once), else https://api.tatum.io.
   * A trailing '/' is ignored.
   */
  baseUrl?: string;
  apiKey: string;
  /** Sent as x-ttm-kms-client-version on the pending call (§2.1). */
  clientVersion: string;
  /** Deadline of each call, ms. Default 30 000. */
  timeoutMs?: number;
  /** Share one pool between clients, or inject one in tests. Default: a private HttpClient. */
  http?: HttpClient;
}

interface PendingFetch {
  /** Well-formed pending transactions, in the server's order, ids unique. */
  transactions: PendingTransaction[];
  /** The same entries exactly as received (what the four-eyes POST shows the approver). */
  raws: Readonly<Record<string, unknown>>[];
  /** Entries that failed validation; report those with an id, skip the rest. */
  malformed: MalformedPending[];
  /** Raw `x-ttm-kms-latest-version` response header, if any (§2.8). */
  latestVersionAdvice?: string;
}

interface BroadcastResult {
  /**
   * The API's txId; undefined when a 2xx answer carried none. The transaction was accepted
   * all the same: the caller journals it as broadcast under the locally computed hash.
   */
  txId: string | undefined;
}

interface WithdrawalBroadcastResult {
  txId: string | undefined;
  /** false: broadcast but the ledger withdrawal must be completed manually (§2.5); undefined: the answer did not say. */
  completed: boolean | undefined;
}

/** What `GET /v3/kms/{id}` says of a pending transaction (TatumClient.completion). */
export type PendingCompletion =
  | { state: 'completed'; txId: string }
  | { state: 'pending' }
  /** 403/404: Tatum does not know the id (deleted, or not this API key's). */
  | { state: 'not-found' };

export interface ErrorReport {
  /** The pending transaction's id. */
  signatureId: string;
  error: string;
}

export class TatumClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly clientVersion: string;
  private readonly timeoutMs: number;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;

  constructor(options: TatumClientOptions) {
    const base = options.baseUrl ?? DEFAULT_API_URL;
    let parsed: URL;
    try {
      parsed = new URL(base);
    } catch {
      throw new HardkmsError(TATUM_ERROR_CODES.badRequest, 'The Tatum API URL is not a valid absolute URL', {
        hint: 'Set TATUM_API_URL to e.g. https://api.tatum.io',
      });
    }
    if (!isHttpScheme(parsed)) {
      throw new HardkmsError(TATUM_ERROR_CODES.badRequest, `The Tatum API URL has scheme ${parsed.protocol}`, {
        hint: 'Use an https:// URL (http:// only for a local test server).',
      });
    }
    if (options.apiKey.length === 0) {
      throw new HardkmsError(TATUM_ERROR_CODES.badRequest, 'No Tatum API key', {
        hint: 'Set TATUM_API_KEY or pass --apiKey.',
      });
    }
    this.baseUrl = base.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.clientVersion = options.clientVersion;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.http = options.http ?? new HttpClient({ timeoutMs: this.timeoutMs });
    this.ownsHttp = options.http === undefined;
  }

  /**
   * §2.2. Refuses more than 25,000 ids without sending anything (as Tatum KMS). An empty
   * list is still sent, as Tatum KMS does. Throws HttpError on transport/status failures and
   * TATUM_BAD_RESPONSE when the body is not a JSON array; malformed entries do not throw.
   */
  async getPending(chain: TatumChain, signatureIds: readonly string[]): Promise<PendingFetch> {
    if (signatureIds.length > MAX_SIGNATURE_IDS) {
      throw new HardkmsError(
        TATUM_ERROR_CODES.tooManyIds,
        `${signatureIds.length} signature ids for ${chain}; the Tatum API accepts at most ${MAX_SIGNATURE_IDS} per chain`,
        { hint: 'Split the wallets over several API keys / daemons, or remove unused wallets.' },
      );
    }
    const res = await this.http.request({
      method: 'POST',
      url: this.baseUrl + pendingPath(chain),
      headers: { ...this.authHeaders(), [HEADER_CLIENT_VERSION]: this.clientVersion },
      json: { signatureIds },
      timeoutMs: this.timeoutMs,
    });
    const list = validatePendingList(res.text, chain);
    if (!list.ok) {
      throw new HardkmsError(TATUM_ERROR_CODES.badResponse, `Pending transactions for ${chain}: ${list.reason}`, {
        hint: 'The API answered something unexpected; it will be asked again next cycle.',
      });
    }
    const advice = res.headers[HEADER_LATEST_VERSION];
    const out: PendingFetch = { transactions: list.transactions, raws: list.raws, malformed: list.malformed };
    if (typeof advice === 'string') out.latestVersionAdvice = advice;
    return out;
  }

  /** §2.7 `GET /v3/kms/{id}`: one pending transaction (for tooling, not the daemon loop). */
  async getTransaction(id: string): Promise<PendingTransaction> {
    const json = await this.callJson('GET', pendingByIdPath(id));
    const r = validatePending(json);
    if (!r.ok) throw new HardkmsError(TATUM_ERROR_CODES.badResponse, `Pending transaction ${id}: ${r.reason}`);
    return r.value;
  }

  /**
   * §2.7 `GET /v3/kms/{id}`, asked before a signed transaction is sent again: whether Tatum
   * already completed the pending transaction (its `txId`, §2.3, set once a broadcast with
   * this signatureId was accepted). Only `id` and `txId` are read: the rest of the answer is
   * not acted on. 'not-found' for a 403/404 answer (a deleted pending transaction, or an id
   * this API key does not see); every other failure throws (HttpError, TATUM_BAD_RESPONSE).
   */
  async completion(id: string): Promise<PendingCompletion> {
    let json: unknown;
    try {
      json = await this.callJson('GET', pendingByIdPath(id));
    } catch (e) {
      if (isHttpError(e) && e.code === 'HTTP_STATUS' && (e.status === 403 || e.status === 404))
        return { state: 'not-found' };
      throw e;
    }
    const o = check(completionAnswer, json);
    if (!o.ok) throw new HardkmsError(TATUM_ERROR_CODES.badResponse, `Pending transaction ${id}: ${o.text}`);
    if (o.value.id !== undefined && o.value.id !== id)
      throw new HardkmsError(TATUM_ERROR_CODES.badResponse, `Pending transaction ${id}: the answer is another id`);
    const txId = o.value.txId;
    return txId === undefined || txId === null || txId === '' ? { state: 'pending' } : { state: 'completed', txId };
  }

  /**
   * §2.7 `PUT /v3/kms/{id}/{txId}`: marks a pending transaction complete. The daemon calls it
   * after broadcasting through the operator's own node (`--broadcast node`), where no Tatum
   * broadcast carried the signatureId.
   */
  async complete(id: string, txId: string): Promise<void> {
    await this.http.request({
      method: 'PUT',
      url: `${this.baseUrl}${pendingByIdPath(id)}/${encodeURIComponent(txId)}`,
      headers: this.authHeaders(),
      timeoutMs: this.timeoutMs,
    });
  }

  /** §2.4: broadcast a signed blockchain transaction; completes the pending tx server-side. */
  async broadcast(chain: TatumChain, txData: string, signatureId: string): Promise<BroadcastResult> {
    const json = await this.postAccepted(broadcastPath(chain), { txData, signatureId });
    return { txId: broadcastAnswerOf(json).txId };
  }

  /** §2.5: broadcast of a virtual-account withdrawal (BTC, LTC, DOGE, BCH, ETH, ONE, ADA only). */
  async broadcastWithdrawal(req: {
    currency: TatumChain;
    txData: string;
    withdrawalId: string;
    signatureId: string;
  }): Promise<WithdrawalBroadcastResult> {
    if (!OFFCHAIN_BROADCAST_CHAINS.has(req.currency)) {
      throw new HardkmsError(
        TATUM_ERROR_CODES.badRequest,
        `${req.currency} withdrawals are broadcast as blockchain transactions`,
        {
          hint: 'Use broadcast() for this chain (spec §2.5).',
        },
      );
    }
    const json = await this.postAccepted(OFFCHAIN_BROADCAST_PATH, {
      currency: req.currency,
      txData: req.txData,
      withdrawalId: req.withdrawalId,
      signatureId: req.signatureId,
    });
    const answer = broadcastAnswerOf(json);
    return { txId: answer.txId, completed: answer.completed };
  }

  /**
   * A broadcast POST: a non-2xx status throws (HttpError); any 2xx means the API accepted the
   * transaction, whatever its body says, so the body is returned parsed, or undefined when it
   * is not JSON. Treating an odd 2xx answer as a failure would re-send a broadcast transaction.
   */
  private async postAccepted(path: string, body: unknown): Promise<unknown> {
    const res = await this.http.request({
      method: 'POST',
      url: this.baseUrl + path,
      headers: this.authHeaders(),
      json: body,
      timeoutMs: this.timeoutMs,
    });
    try {
      return res.text === '' ? undefined : (JSON.parse(res.text) as unknown);
    } catch {
      return undefined;
    }
  }

  /** §2.6: one error batch per cycle. An empty list sends nothing. */
  async reportErrors(errors: readonly ErrorReport[]): Promise<void> {
    if (errors.length === 0) return;
    await this.http.request({
      method: 'POST',
      url: this.baseUrl + ERROR_BATCH_PATH,
      headers: this.authHeaders(),
      json: { errors: errors.map((e) => ({ signatureId: e.signatureId, error: e.error })) },
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * Whether the API answers at all, checked before the operators touch their YubiKeys: a
   * daemon that cannot reach Tatum would make them touch for nothing. Any HTTP answer counts
   * (the base URL is no API call: no credit is spent, no key is sent); a refused connection,
   * a DNS or TLS failure or no answer within the deadline throws DAEMON_API_UNREACHABLE.
   */
  async probe(timeoutMs = 10_000): Promise<void> {
    try {
      await this.http.request({
        method: 'GET',
        url: `${this.baseUrl}/`,
        throwOnStatus: false,
        timeoutMs,
        maxResponseBytes: 1 << 20,
      });
    } catch (e) {
      throw new HardkmsError(
        'DAEMON_API_UNREACHABLE',
        `The Tatum API at ${redactUrl(this.baseUrl)} does not answer (${e instanceof Error ? e.message : String(e)}); nothing was unsealed.`,
        {
          hint: 'Check TATUM_API_URL, DNS, the proxy and the firewall, then start the daemon again: no YubiKey needs touching until the API answers.',
        },
      );
    }
  }

  close(): void {
    if (this.ownsHttp) this.http.close();
  }

  /** The API key, and hardkms's own version where Tatum's SDKs send theirs (User-Agent: Tatum_SDK_JS/<v>, §2.1). */
  private authHeaders(): Record<string, string> {
    return { [HEADER_API_KEY]: this.apiKey, 'user-agent': `hardkms/${this.clientVersion}` };
  }

  private async callJson(method: HttpMethod, path: string, body?: unknown): Promise<unknown> {
    const res = await this.http.requestJson({
      method,
      url: this.baseUrl + path,
      headers: this.authHeaders(),
      ...(body === undefined ? {} : { json: body }),
      timeoutMs: this.timeoutMs,
    });
    return res.json;
  }
}

/**
 * `GET /v3/kms/{id}` as completion() reads it: the id it is about, and the txId Tatum
 * recorded (null, absent or empty while pending). Other fields are not acted on.
 */
const TX_ID = expecting('a transaction id (printable text, at most 200 characters)');
const completionAnswer = looseJsonObject(
  {
    id: v.optional(v.unknown()),
    txId: v.nullish(
      v.union(
        [v.literal(''), v.pipe(v.string(TX_ID), v.maxLength(200, TX_ID), v.regex(/^[\x21-\x7e]+$/, TX_ID))],
        TX_ID,
      ),
    ),
  },
  'an object (the pending transaction)',
);

/**
 * A broadcast's 2xx answer: its txId (1-200 characters) and, off-chain, `completed`. Never
 * refused (any 2xx means the API took the transaction): a field that is not what Tatum
 * sends is as if absent.
 */
const broadcastAnswer = v.fallback(
  v.object({
    txId: v.fallback(v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))), undefined),
    completed: v.fallback(v.optional(v.boolean()), undefined),
  }),
  {},
);

function broadcastAnswerOf(json: unknown): { txId?: string | undefined; completed?: boolean | undefined } {
  const r = check(broadcastAnswer, json);
  return r.ok ? r.value : {};
}
