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
 * - optional `secret`: the approver must also return header `x-hardkms-approval` =
 *   lowercase-or-uppercase hex HMAC-SHA256(secret, pending id). A 2xx without a matching
 *   header is a denial, so something that merely answers 200 (a captive portal, a
 *   spoofed host, a catch-all route) cannot approve.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpClient, isHttpError } from './http.js';

export const APPROVAL_HEADER = 'x-hardkms-approval';

export interface ApprovalOptions {
  externalUrl: string;
  /** 'POST' (exactly) selects POST; anything else, or absent, means GET. */
  method?: string;
  /** HMAC key the approver shares with us. Kept as bytes; call close() to zero it. */
  secret?: Uint8Array;
  /** Deadline of one approval call, ms. Default 10 000. */
  timeoutMs?: number;
  http?: HttpClient;
}

export type ApprovalDecision = { approved: true; status: number } | { approved: false; reason: string; status?: number };

/** hex HMAC-SHA256(secret, id): what an approver returns in `x-hardkms-approval`. */
export function approvalMac(secret: Uint8Array, pendingId: string): string {
  return createHmac('sha256', secret).update(pendingId, 'utf8').digest('hex');
}

export class ExternalApprover {
  private readonly baseUrl: string;
  private readonly usePost: boolean;
  private readonly secret: Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;

  constructor(options: ApprovalOptions) {
    this.baseUrl = options.externalUrl;
    this.usePost = options.method === 'POST';
    // Our own copy, so the caller may wipe theirs and close() can wipe ours.
    this.secret = options.secret === undefined ? undefined : Buffer.from(options.secret);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.http = options.http ?? new HttpClient({ timeoutMs: this.timeoutMs, maxResponseBytes: 64 * 1024 });
    this.ownsHttp = options.http === undefined;
  }

  get method(): 'GET' | 'POST' {
    return this.usePost ? 'POST' : 'GET';
  }

  /**
   * Asks the approver about one pending transaction. `body` is what POST mode sends: the
   * pending transaction as received from the API. Never throws.
   */
  async approve(pendingId: string, body?: unknown): Promise<ApprovalDecision> {
    // Plain concatenation, as Tatum KMS; pending ids are validated as 24 hex characters.
    const url = `${this.baseUrl}/${pendingId}`;
    try {
      const res = await this.http.request({
        method: this.method,
        url,
        ...(this.usePost ? { json: body ?? { id: pendingId } } : {}),
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
          return { approved: false, status: res.status, reason: `approver answered ${res.status} without the ${APPROVAL_HEADER} header` };
        }
        if (!macMatches(this.secret, pendingId, given)) {
          return { approved: false, status: res.status, reason: `approver's ${APPROVAL_HEADER} header does not match (wrong secret or spoofed approver)` };
        }
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

function macMatches(secret: Buffer, pendingId: string, givenHex: string): boolean {
  const expected = createHmac('sha256', secret).update(pendingId, 'utf8').digest();
  if (!/^[0-9a-f]{64}$/.test(givenHex)) return false;
  const given = Buffer.from(givenHex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
