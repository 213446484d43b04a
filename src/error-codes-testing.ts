/** Test-only view of the closed list of error codes (test/unit/vocabularies.test.ts). */
import { CODES, exitCodeOf, type ErrorCode, type ExitClass } from './error-codes.js';

/** Every code and its class. */
export function errorCodeTable(): ReadonlyArray<{ code: ErrorCode; exitClass: ExitClass; exitCode: number }> {
  return (Object.keys(CODES) as ErrorCode[]).map((code) => ({
    code,
    exitClass: CODES[code],
    exitCode: exitCodeOf(code),
  }));
}
