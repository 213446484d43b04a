import { HardkmsError } from '../errors.js';
import { HMAC_SHA1_RESPONSE_BYTES } from './drivers/driver.js';

/**
 * Pulls the 20-byte response out of a tool's stdout: the last non-empty line, exactly
 * 40 hex digits (ykman prints `response.hex()`, ykchalresp prints lower-case hex; both
 * end with a newline). Works on the Buffer so no copy of the response is left in an
 * immutable string; the caller wipes both `stdout` and the result.
 */
export function parseHexResponse(stdout: Buffer | string, tool: string): Buffer {
  const buf = typeof stdout === 'string' ? Buffer.from(stdout, 'latin1') : stdout;
  let end = buf.length;
  while (end > 0 && isSpace(buf[end - 1]!)) end--;
  let start = end;
  while (start > 0 && buf[start - 1] !== 0x0a && buf[start - 1] !== 0x0d) start--;
  const hexLen = end - start;
  if (hexLen !== HMAC_SHA1_RESPONSE_BYTES * 2) {
    throw malformed(tool);
  }
  const out = Buffer.alloc(HMAC_SHA1_RESPONSE_BYTES);
  for (let i = 0; i < HMAC_SHA1_RESPONSE_BYTES; i++) {
    const hi = hexValue(buf[start + 2 * i]!);
    const lo = hexValue(buf[start + 2 * i + 1]!);
    if (hi < 0 || lo < 0) {
      out.fill(0);
      throw malformed(tool);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function malformed(tool: string): HardkmsError {
  return new HardkmsError('GATE_DRIVER_FAILED', `${tool} did not print a 20-byte HMAC-SHA1 response.`, {
    hint: `Check that ${tool} works on its own and that the slot holds an HMAC-SHA1 challenge-response credential.`,
  });
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

/** Parses a list of decimal serials, one per line (blank lines ignored). */
export function parseSerialLines(stdout: string, tool: string): number[] {
  const serials: number[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^\d{1,10}$/.test(line)) {
      throw new HardkmsError(
        'GATE_DRIVER_FAILED',
        `${tool} printed an unexpected line where a serial number was expected: "${line.slice(0, 80)}".`,
        {
          hint: `Run it by hand to see what is wrong; the ${tool} version may be unsupported.`,
        },
      );
    }
    serials.push(Number(line));
  }
  return serials;
}
