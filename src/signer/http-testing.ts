/** Test-only classification of HttpClient failures (the daemon retries every failure on its next cycle). */
import { HTTP_ERROR_CODES, isHttpError } from './http.js';

/**
 * Failures worth retrying later with backoff: the peer was unreachable, slow, overloaded
 * or answered something unreadable. 4xx other than 408/429 are the request's fault and
 * will not heal by themselves.
 */
export function isTransientHttpError(e: unknown): boolean {
  if (!isHttpError(e)) return false;
  if (e.code !== HTTP_ERROR_CODES.status) return true;
  const s = e.status ?? 0;
  return s >= 500 || s === 408 || s === 429;
}
