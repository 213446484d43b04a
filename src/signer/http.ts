/**
 * A small JSON-over-HTTP client for the daemon's outbound calls (Tatum API, operator
 * nodes, the four-eyes approver).
 *
 * Why node:http and not fetch: Node 20's fetch (undici) cannot take a per-client agent
 * without importing undici directly, and we want bounded keep-alive pools (Tatum KMS
 * uses maxSockets 4, §2.1), one hard deadline per request covering connect + headers +
 * body, and no redirect following (a redirect is an answer we did not ask for).
 *
 * Nothing here logs. Errors name the method and the URL without userinfo, query or
 * fragment, and never carry request headers: those hold the API key.
 */
import http from 'node:http';
import https from 'node:https';
import { HardkmsError } from '../errors.js';
import { isHttpScheme } from '../http-url.js';
import { jsonSyntaxPlace } from '../value-kind.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface HttpRequest {
  method: HttpMethod;
  url: string | URL;
  headers?: Record<string, string>;
  /** Serialised with JSON.stringify and sent as application/json. Omit for no body. */
  json?: unknown;
  /** A JSON text sent as is (application/json), when the exact bytes matter. Instead of `json`. */
  body?: string;
  /** Deadline for the whole exchange (connect, send, headers, body). Defaults to the client's. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Defaults to the client's. */
  maxResponseBytes?: number;
  /** When false, a non-2xx status is returned instead of thrown. Default true. */
  throwOnStatus?: boolean;
  /** A secret the URL carries (Tatum's web3 proxies take the API key in the path): never shown in errors. */
  secretInUrl?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Body decoded as UTF-8. */
  text: string;
}

interface HttpClientOptions {
  /** Default per-request deadline, ms. Default 30 000. */
  timeoutMs?: number;
  /** Keep-alive pool size per origin. Default 4 (as Tatum KMS). */
  maxSockets?: number;
  /** Idle sockets kept per origin. Default 2. */
  maxFreeSockets?: number;
  /** Default response body cap. Default 64 MiB (25,000 pending transactions can be large). */
  maxResponseBytes?: number;
}

/** Stable error codes of HttpError. */
export const HTTP_ERROR_CODES = {
  status: 'HTTP_STATUS',
  network: 'HTTP_NETWORK',
  timeout: 'HTTP_TIMEOUT',
  tooLarge: 'HTTP_RESPONSE_TOO_LARGE',
  badJson: 'HTTP_BAD_JSON',
} as const;
type HttpErrorCode = (typeof HTTP_ERROR_CODES)[keyof typeof HTTP_ERROR_CODES];

/** How much of a response body an error keeps: enough to see the server's reason. */
const ERROR_BODY_LIMIT = 2000;

export class HttpError extends HardkmsError {
  declare readonly code: HttpErrorCode;
  /** HTTP status for HTTP_STATUS / HTTP_BAD_JSON / HTTP_RESPONSE_TOO_LARGE, else undefined. */
  readonly status: number | undefined;
  /** Response body, truncated to ERROR_BODY_LIMIT characters (HTTP_STATUS, HTTP_BAD_JSON). */
  readonly bodyText: string | undefined;
  /** Method and redacted URL of the request. */
  readonly target: string;

  constructor(
    code: HttpErrorCode,
    message: string,
    details: { target: string; status?: number; bodyText?: string; hint?: string; cause?: unknown },
  ) {
    super(code, message, {
      ...(details.hint === undefined ? {} : { hint: details.hint }),
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.name = 'HttpError';
    this.status = details.status;
    this.bodyText = details.bodyText;
    this.target = details.target;
  }
}

export function isHttpError(e: unknown): e is HttpError {
  return e instanceof HttpError;
}

/** `scheme://host[:port]/path` — no userinfo (node credentials), query or fragment. */
export function redactUrl(url: string | URL, secret?: string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    const shown = `${u.protocol}//${u.host}${u.pathname}`;
    return secret === undefined || secret === ''
      ? shown
      : shown.split(encodeURIComponent(secret)).join('<api-key>').split(secret).join('<api-key>');
  } catch {
    return '<invalid URL>';
  }
}

export function truncate(text: string, limit = ERROR_BODY_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

/**
 * A response body as an error may name it: "a text/html body of 512 bytes", never its text.
 * The media type is shown only when it is one (a header is the server's text too).
 */
export function bodyKind(res: Pick<HttpResponse, 'text' | 'headers'>): string {
  if (res.text.length === 0) return 'an empty body';
  const type = /^\s*([\w.+-]+\/[\w.+-]+)\s*(?:;|$)/.exec(res.headers['content-type'] ?? '')?.[1];
  return `a ${type === undefined ? '' : `${type.toLowerCase()} `}body of ${Buffer.byteLength(res.text)} bytes`;
}

/**
 * What an HTTP status error keeps of the body. A JSON body is a server's structured reason
 * (Tatum's is reported back in the error batch, §2.6), kept with this request's credentials
 * cut out in case it repeats them. Any other body (a proxy's or a node's page, which may
 * repeat the request, its Authorization header included) is not kept: the error names its
 * kind and size instead.
 */
function keptErrorBody(text: string, secrets: readonly string[]): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let kept = text;
  for (const secret of secrets) if (secret.length >= 4) kept = kept.split(secret).join('<redacted>');
  return kept;
}

/** The credentials a request carries, as a server could repeat them: URL userinfo (and its basic-auth form), API key headers. */
function requestSecrets(auth: string | undefined, headers: Record<string, string>, secretInUrl?: string): string[] {
  const out: string[] = [];
  if (auth !== undefined) {
    out.push(Buffer.from(auth).toString('base64'), auth);
    const password = auth.slice(auth.indexOf(':') + 1);
    out.push(password);
  }
  for (const [name, value] of Object.entries(headers)) if (/^(x-api-key|authorization)$/i.test(name)) out.push(value);
  if (secretInUrl !== undefined) out.push(secretInUrl, encodeURIComponent(secretInUrl));
  // Longest first: a secret inside another is cut as part of the longer one.
  return out.filter((x) => x !== '').sort((a, b) => b.length - a.length);
}

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: HttpClientOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 4,
      maxFreeSockets: options.maxFreeSockets ?? 2,
      // Idle keep-alive sockets are closed after this; servers usually drop theirs sooner.
      timeout: 60_000,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  }

  /** Sends one request; resolves with the response or rejects with an HttpError. */
  request(req: HttpRequest): Promise<HttpResponse> {
    let url: URL;
    try {
      url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    } catch (cause) {
      return Promise.reject(
        new HttpError(HTTP_ERROR_CODES.network, `Invalid URL for ${req.method} request`, {
          target: req.method,
          hint: 'Check the configured URL (it must be absolute, e.g. https://api.tatum.io).',
          cause,
        }),
      );
    }
    const target = `${req.method} ${redactUrl(url, req.secretInUrl)}`;
    if (!isHttpScheme(url)) {
      return Promise.reject(
        new HttpError(HTTP_ERROR_CODES.network, `Unsupported URL scheme ${url.protocol} for ${target}`, {
          target,
          hint: 'Use an http:// or https:// URL.',
        }),
      );
    }
    const isHttps = url.protocol === 'https:';
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const maxBytes = req.maxResponseBytes ?? this.maxResponseBytes;
    let body: Buffer | undefined;
    try {
      body =
        req.body !== undefined
          ? Buffer.from(req.body, 'utf8')
          : req.json === undefined
            ? undefined
            : Buffer.from(JSON.stringify(req.json), 'utf8');
    } catch (cause) {
      return Promise.reject(
        new HttpError(HTTP_ERROR_CODES.network, `The body of ${target} cannot be serialised: ${errMessage(cause)}`, {
          target,
          cause,
        }),
      );
    }
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const auth =
      url.username !== '' || url.password !== ''
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined;

    // A keep-alive socket the server closed while it sat idle (Node's own server drops them
    // after 5 s, a long cycle idles longer) fails with ECONNRESET on its next use; the request
    // never reached the server, so it is sent once more on a fresh socket (Node's documented
    // remedy, request.reusedSocket).
    const attempt = (mayRetry: boolean): Promise<HttpResponse> =>
      new Promise<HttpResponse>((resolve, reject) => {
        let settled = false;
        const finish = (err: HttpError | undefined, res?: HttpResponse): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err !== undefined) reject(err);
          else resolve(res as HttpResponse);
        };

        const options: http.RequestOptions = {
          method: req.method,
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          ...(auth === undefined ? {} : { auth }),
        };
        const request = (isHttps ? https : http).request(options, (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              finish(
                new HttpError(HTTP_ERROR_CODES.tooLarge, `Response of ${target} exceeds ${maxBytes} bytes`, {
                  target,
                  status: response.statusCode,
                }),
              );
              request.destroy();
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', (cause) => {
            finish(
              new HttpError(HTTP_ERROR_CODES.network, `Connection lost while reading ${target}: ${errMessage(cause)}`, {
                target,
                cause,
              }),
            );
          });
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if ((req.throwOnStatus ?? true) && (status < 200 || status > 299)) {
              const kept = keptErrorBody(text, requestSecrets(auth, headers, req.secretInUrl));
              const said =
                kept === undefined ? ` (${bodyKind({ text, headers: response.headers })})` : `: ${truncate(kept, 300)}`;
              finish(
                new HttpError(HTTP_ERROR_CODES.status, `${target} answered HTTP ${status}${said}`, {
                  target,
                  status,
                  ...(kept === undefined ? {} : { bodyText: truncate(kept) }),
                  hint: statusHint(status),
                }),
              );
              return;
            }
            finish(undefined, { status, headers: response.headers, text });
          });
        });

        const timer = setTimeout(() => {
          finish(
            new HttpError(HTTP_ERROR_CODES.timeout, `${target} did not complete within ${timeoutMs} ms`, {
              target,
              hint: 'The server or network is slow or down; the call will be retried later.',
            }),
          );
          request.destroy();
        }, timeoutMs);

        request.on('error', (cause) => {
          if (mayRetry && !settled && request.reusedSocket && (cause as NodeJS.ErrnoException).code === 'ECONNRESET') {
            settled = true;
            clearTimeout(timer);
            attempt(false).then(resolve, reject);
            return;
          }
          finish(
            new HttpError(HTTP_ERROR_CODES.network, `${target} failed: ${errMessage(cause)}`, {
              target,
              hint: 'Check that the server is reachable (URL, DNS, firewall, proxy).',
              cause,
            }),
          );
        });
        request.end(body);
      });
    return attempt(true);
  }

  /** As request(), then parses the body as JSON (HTTP_BAD_JSON when it is not). */
  async requestJson(req: HttpRequest): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: unknown }> {
    const res = await this.request(req);
    return {
      status: res.status,
      headers: res.headers,
      json: parseJsonBody(res, `${req.method} ${redactUrl(req.url, req.secretInUrl)}`),
    };
  }

  /** Closes idle keep-alive sockets so the process can exit. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * The body as JSON, or HTTP_BAD_JSON naming the status, the kind and size of the body and
 * where it stops being JSON. Neither the text nor V8's SyntaxError (whose message quotes the
 * start of the text) is kept: the error goes to the log and the error batch, and a page that
 * is not JSON may repeat the request.
 */
export function parseJsonBody(res: HttpResponse, target: string): unknown {
  try {
    return JSON.parse(res.text) as unknown;
  } catch (e) {
    const place = jsonSyntaxPlace(res.text, e);
    throw new HttpError(
      HTTP_ERROR_CODES.badJson,
      `${target} answered a body that is not JSON (HTTP ${res.status}, ${bodyKind(res)}${place === undefined ? '' : `, invalid at ${place}`})`,
      { target, status: res.status },
    );
  }
}

function statusHint(status: number): string | undefined {
  if (status === 401 || status === 403) return 'Check the API key (TATUM_API_KEY / --apiKey) and its network.';
  if (status === 429) return 'Rate limited; the call will be retried later.';
  if (status >= 500) return 'The server failed; the call will be retried later.';
  if (status >= 300 && status < 400) return 'Redirects are not followed; configure the final URL.';
  return undefined;
}

function errMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === undefined ? e.message : `${code} ${e.message}`;
  }
  return String(e);
}
