/**
 * Four-eyes approval (spec §2.9): before signing, ask an external system whether this
 * pending transaction is expected.
 *
 * As Tatum KMS: `GET {externalUrl}/{id}`, or `POST {externalUrl}/{id}` with the pending
 * transaction JSON as body when the method is exactly 'POST' (case-sensitive, anything
 * else means GET). Any 2xx approves; any other status, a network error or the deadline
 * passing means "not approved" and the transaction is skipped (it comes back next cycle).
 *
 * Beyond Tatum:
 * - a deadline on the call (Tatum KMS has none);
 * - redirects are NOT followed. A 3xx is a denial: the approval must come from the
 *   configured URL itself, and following a redirect would let whoever controls DNS or a
 *   proxy in front of it send the question (and in POST mode the transaction) elsewhere
 *   and answer it from there;
 * - optional `secret` (required on mainnet): the approver proves, in response header
 *   `x-hardkms-approval`, hex HMAC-SHA256(secret, APPROVAL_PROOF_PREFIX ‖ pending id ‖
 *   payload SHA-256 ‖ nonce ‖ expiry), lines joined by "\n". hardkms sends the nonce (fresh
 *   random, `x-hardkms-nonce`), the expiry (unix seconds, `x-hardkms-expires`) and its own
 *   payload hash (`x-hardkms-payload-sha256`) with every request; in POST mode the body is
 *   exactly the canonical JSON whose SHA-256 that is, so the approver hashes the bytes it
 *   received. A 2xx without a matching proof is a denial: a captured header approves
 *   nothing else (other nonce), a body changed on the way is proven over another hash, and
 *   something that merely answers 200 (captive portal, spoofed host) cannot approve.
 *   Protocol and an approver sketch: docs/runbook.md "Four-eyes approver protocol".
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../audit/record.js';
import { HttpClient, isHttpError } from '../http.js';

export const APPROVAL_HEADER = 'x-hardkms-approval';
const NONCE_HEADER = 'x-hardkms-nonce';
const EXPIRES_HEADER = 'x-hardkms-expires';
const PAYLOAD_HEADER = 'x-hardkms-payload-sha256';
const APPROVAL_PROOF_PREFIX = 'hardkms-approval-v2';

interface ApprovalOptions {
  externalUrl: string;
  /** 'POST' (exactly) selects POST; anything else, or absent, means GET. */
  method?: string;
  /** HMAC key the approver shares with us. Kept as bytes; call close() to zero it. */
  secret?: Uint8Array;
  /** Deadline of one approval call, ms. Default 10 000. */
  timeoutMs?: number;
  http?: HttpClient;
  /** Clock (tests). */
  now?: () => Date;
}

type ApprovalDecision = { approved: true; status: number } | { approved: false; reason: string; status?: number };

/** What the approver is asked about: the canonical JSON of the pending transaction as received, and its SHA-256. */
export interface ApprovalPayload {
  canonical: string;
  sha256: string;
}

/**
 * The canonical form the approver is shown and proves. Throws TX_APPROVAL_UNSENDABLE for a
 * pending transaction that cannot be serialised (nested too deep, say): the caller reports
 * it instead of asking an approver that would never see it.
 */
export function approvalPayload(raw: unknown): ApprovalPayload {
  let canonical: string;
  try {
    canonical = canonicalJson(raw);
  } catch (e) {
    throw new ApprovalUnsendable(
      e instanceof RangeError
        ? 'it is nested too deeply to be serialised'
        : `it cannot be serialised (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  return { canonical, sha256: createHash('sha256').update(canonical, 'utf8').digest('hex') };
}

export class ApprovalUnsendable extends Error {
  readonly code = 'TX_APPROVAL_UNSENDABLE';
  constructor(why: string) {
    super(`the pending transaction cannot be sent to the four-eyes approver: ${why}`);
    this.name = 'ApprovalUnsendable';
  }
}

/** hex HMAC-SHA256 the approver returns in `x-hardkms-approval`. */
export function approvalProof(
  secret: Uint8Array,
  args: { pendingId: string; payloadSha256: string; nonce: string; expires: number | string },
): string {
  return createHmac('sha256', secret)
    .update(
      [APPROVAL_PROOF_PREFIX, args.pendingId, args.payloadSha256, args.nonce, String(args.expires)].join('\n'),
      'utf8',
    )
    .digest('hex');
}

export class ExternalApprover {
  private readonly baseUrl: string;
  private readonly usePost: boolean;
  private readonly secret: Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly now: () => Date;

  constructor(options: ApprovalOptions) {
    this.baseUrl = options.externalUrl;
    this.usePost = options.method === 'POST';
    // Our own copy, so the caller may wipe theirs and close() can wipe ours.
    this.secret = options.secret === undefined ? undefined : Buffer.from(options.secret);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.http = options.http ?? new HttpClient({ timeoutMs: this.timeoutMs, maxResponseBytes: 64 * 1024 });
    this.ownsHttp = options.http === undefined;
    this.now = options.now ?? (() => new Date());
  }

  get method(): 'GET' | 'POST' {
    return this.usePost ? 'POST' : 'GET';
  }

  get authenticated(): boolean {
    return this.secret !== undefined;
  }

  /**
   * Asks the approver about one pending transaction. `raw` is the pending transaction as
   * received from the API (POST mode sends it); `payload` its approvalPayload(). Never throws.
   */
  async approve(
    pendingId: string,
    raw?: unknown,
    payload: ApprovalPayload = approvalPayloadOrId(pendingId, raw),
  ): Promise<ApprovalDecision> {
    // Plain concatenation, as Tatum KMS; pending ids are validated as 24 hex characters.
    const url = `${this.baseUrl}/${pendingId}`;
    const nonce = randomBytes(16).toString('hex');
    const expires = Math.ceil((this.now().getTime() + this.timeoutMs) / 1000);
    const headers = { [NONCE_HEADER]: nonce, [EXPIRES_HEADER]: String(expires), [PAYLOAD_HEADER]: payload.sha256 };
    try {
      const res = await this.http.request({
        method: this.method,
        url,
        headers,
        // With a secret the body is exactly the canonical JSON that is proven; without one,
        // the pending transaction as Tatum KMS sends it.
        ...(this.usePost
          ? this.secret !== undefined
            ? { body: payload.canonical }
            : { json: raw ?? { id: pendingId } }
          : {}),
        timeoutMs: this.timeoutMs,
        maxResponseBytes: 64 * 1024,
        throwOnStatus: false,
      });
      if (res.status < 200 || res.status > 299) {
        const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
        return { approved: false, status: res.status, reason: `approver answered HTTP ${res.status}${redirect}` };
      }
      if (this.secret !== undefined) {
        const header = res.headers[APPROVAL_HEADER];
        const given = typeof header === 'string' ? header.trim().toLowerCase() : '';
        if (given === '') {
          return {
            approved: false,
            status: res.status,
            reason: `approver answered ${res.status} without the ${APPROVAL_HEADER} header`,
          };
        }
        const expected = approvalProof(this.secret, { pendingId, payloadSha256: payload.sha256, nonce, expires });
        if (!hexEquals(expected, given)) {
          return {
            approved: false,
            status: res.status,
            reason: `approver's ${APPROVAL_HEADER} proof does not match this request (wrong secret, replayed answer, changed payload or spoofed approver)`,
          };
        }
        if (this.now().getTime() > expires * 1000)
          return { approved: false, status: res.status, reason: 'the approval arrived after its expiry' };
      }
      return { approved: true, status: res.status };
    } catch (e) {
      const reason = isHttpError(e) ? e.message : `approval call failed: ${e instanceof Error ? e.message : String(e)}`;
      return { approved: false, reason };
    }
  }

  close(): void {
    this.secret?.fill(0);
    if (this.ownsHttp) this.http.close();
  }
}

function approvalPayloadOrId(pendingId: string, raw: unknown): ApprovalPayload {
  return approvalPayload(raw ?? { id: pendingId });
}

function hexEquals(expectedHex: string, givenHex: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(givenHex)) return false;
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(givenHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
