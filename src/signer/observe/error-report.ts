import { isHardkmsError } from '../../errors.js';
import { isHttpError, truncate } from '../http.js';

/** The `error` text of the batch report (§2.6): the HTTP error body for API errors, else code and message. */
export function reportText(e: unknown): string {
  if (isHttpError(e) && e.bodyText !== undefined && e.bodyText.length > 0) return errorReportText(e);
  if (isHardkmsError(e)) return `${e.code}: ${e.message}`;
  return `INTERNAL: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * §2.6 says the reported `error` is the pretty-printed HTTP error body when the failure was
 * an HTTP error, else the exception's string form. This builds that text, bounded.
 */
export function errorReportText(e: unknown): string {
  const body = (e as { bodyText?: unknown } | null)?.bodyText;
  if (typeof body === 'string' && body.length > 0) {
    try {
      return truncate(JSON.stringify(JSON.parse(body), null, 2));
    } catch {
      return truncate(body);
    }
  }
  return truncate(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}
