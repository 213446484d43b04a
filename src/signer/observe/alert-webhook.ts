import { hostname } from 'node:os';
import type { WatchedAnomaly } from '../../audit/watch.js';
import { VERSION } from '../../version.js';
import { HttpClient } from '../http.js';
import type { DaemonLog } from './logger.js';

/**
 * `daemon --alert-webhook URL`: each critical anomaly of the audit log (the audit report's
 * list, found by audit/watch.ts as records are appended) is POSTed as one JSON object.
 *
 * It never holds signing up: alerts go through a bounded queue, sent one at a time in the
 * background, each attempt with a short deadline and a bounded number of retries; when the
 * queue is full the oldest alert is dropped and the next one says how many were. The body
 * carries the anomaly and the record's event, actor, subject and time, never a record's
 * details (the log holds no secret, but an alert is no place to copy it to). The URL is
 * shown as its origin only: webhook URLs often carry a token in their path.
 */

interface AlertWebhookOptions {
  url: string;
  vaultId: string;
  log: DaemonLog;
  /** Per attempt, ms (default 5 000). */
  timeoutMs?: number;
  /** Attempts per alert (default 3). */
  attempts?: number;
  /** Alerts kept waiting at most (default 100). */
  maxQueue?: number;
  /** Before the 2nd, 3rd… attempt, ms (default 1 000, doubling). */
  retryDelayMs?: number;
}

interface AlertBody {
  source: 'hardkms';
  version: string;
  host: string;
  vaultId: string;
  detectedAt: string;
  anomaly: { kind: string; severity: string; message: string; seq: number | null; line: number | null };
  record: { event: string; actor: string; subject: string; time: string } | null;
  /** Alerts dropped before this one because the queue was full (the endpoint was down for long). */
  dropped: number;
}

export class AlertWebhook {
  private readonly http: HttpClient;
  private readonly queue: AlertBody[] = [];
  private dropped = 0;
  private sending: Promise<void> | undefined;
  private closed = false;
  readonly origin: string;

  constructor(private readonly o: AlertWebhookOptions) {
    this.origin = new URL(o.url).origin;
    this.http = new HttpClient({
      timeoutMs: o.timeoutMs ?? 5_000,
      maxSockets: 1,
      maxFreeSockets: 1,
      maxResponseBytes: 64 * 1024,
    });
  }

  /** Queues the alert; returns at once (never throws, never waits for the endpoint). */
  send(a: WatchedAnomaly): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueue ?? 100)) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push({
      source: 'hardkms',
      version: VERSION,
      host: hostname(),
      vaultId: this.o.vaultId,
      detectedAt: new Date().toISOString(),
      anomaly: { kind: a.kind, severity: a.severity, message: a.message, seq: a.seq, line: a.line },
      record: a.record ?? null,
      dropped: 0,
    });
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let body = this.queue.shift(); body !== undefined; body = this.queue.shift()) {
      body.dropped = this.dropped;
      this.dropped = 0;
      const attempts = this.o.attempts ?? 3;
      let error = '';
      for (let i = 1; i <= attempts && !this.closed; i++) {
        try {
          await this.http.request({
            method: 'POST',
            url: this.o.url,
            json: body,
            headers: { 'user-agent': `hardkms/${VERSION}` },
          });
          error = '';
          break;
        } catch (e) {
          // No URL in the message: HttpError names the path, which may be the webhook's token.
          error = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'error';
          if (i < attempts && !this.closed)
            await new Promise((r) => setTimeout(r, (this.o.retryDelayMs ?? 1_000) * 2 ** (i - 1)).unref());
        }
      }
      if (error !== '') {
        this.o.log('warn', 'alert webhook: the alert could not be delivered', {
          webhook: this.origin,
          kind: body.anomaly.kind,
          seq: body.anomaly.seq,
          error,
          attempts,
        });
      }
    }
  }

  /** Gives the alerts in flight up to `deadlineMs` to go out, then stops (the daemon is stopping). */
  async close(deadlineMs = 2_000): Promise<void> {
    const inFlight = this.sending;
    if (inFlight !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    if (this.queue.length > 0)
      this.o.log('warn', 'alert webhook: alerts not sent before the daemon stopped', {
        webhook: this.origin,
        count: this.queue.length,
      });
    this.http.close();
  }
}
