import { InputError } from '../errors.js';

/**
 * Secrets enter through a hidden prompt on the terminal, or, when stdin is not a TTY
 * (scripts, tests), one line of stdin per secret. Never through argv. Lines are kept as
 * Buffers so they can be wiped; only the caller decides when a string is unavoidable.
 */

let pending: Buffer = Buffer.alloc(0);
let ended = false;
const waiters: Array<() => void> = [];
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.stdin.on('data', (chunk: Buffer) => {
    const next = Buffer.concat([pending, chunk]);
    pending.fill(0);
    chunk.fill(0);
    pending = next;
    waiters.splice(0).forEach((w) => w());
  });
  process.stdin.on('end', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
}

async function readStdinLine(): Promise<Buffer | undefined> {
  listen();
  for (;;) {
    const nl = pending.indexOf(0x0a);
    if (nl >= 0) {
      const end = nl > 0 && pending[nl - 1] === 0x0d ? nl - 1 : nl;
      const line = Buffer.from(pending.subarray(0, end));
      const rest = Buffer.from(pending.subarray(nl + 1));
      pending.fill(0);
      pending = rest;
      return line;
    }
    if (ended) {
      if (pending.length === 0) return undefined;
      const line = pending;
      pending = Buffer.alloc(0);
      return line;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
}

async function readHidden(promptText: string): Promise<Buffer> {
  const stdin = process.stdin;
  process.stderr.write(promptText);
  stdin.setRawMode(true);
  stdin.resume();
  let buf = Buffer.alloc(0);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        for (const byte of chunk) {
          if (byte === 0x0d || byte === 0x0a) {
            stdin.off('data', onData);
            resolve(buf);
            return;
          }
          if (byte === 0x03) {
            stdin.off('data', onData);
            reject(new InputError('Cancelled at the prompt.'));
            return;
          }
          if (byte === 0x7f || byte === 0x08) {
            const shorter = Buffer.from(buf.subarray(0, Math.max(0, buf.length - 1)));
            buf.fill(0);
            buf = shorter;
            continue;
          }
          const longer = Buffer.concat([buf, Buffer.from([byte])]);
          buf.fill(0);
          buf = longer;
        }
        chunk.fill(0);
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** Reads one secret: hidden prompt on a terminal, else the next line of stdin. */
export async function readSecret(promptText: string, what: string): Promise<Buffer> {
  const secret = process.stdin.isTTY ? await readHidden(promptText) : await readStdinLine();
  if (!secret || secret.length === 0) {
    throw new InputError(
      `No ${what} was given.`,
      process.stdin.isTTY
        ? `Type the ${what} at the prompt.`
        : `Pipe the ${what} on stdin, one line, or run the command in a terminal to be prompted.`,
    );
  }
  return secret;
}

/**
 * Reads a new secret; on a terminal it is asked twice and must be typed the same (`plural`
 * names the two in the error: "passwords"). Piped, one line is the secret.
 */
export async function readNewSecret(promptText: string, what: string, plural: string): Promise<Buffer> {
  const first = await readSecret(promptText, what);
  if (process.stdin.isTTY) {
    const again = await readSecret('Type it again: ', what);
    const same = again.equals(first);
    again.fill(0);
    if (!same) {
      first.fill(0);
      throw new InputError(`The two ${plural} differ; nothing was changed.`, 'Run the command again.');
    }
  }
  return first;
}

/** Reads one non-secret line (confirmations, recovery words) the same way. */
export async function readLine(promptText: string): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(promptText);
  }
  const line = await readStdinLine();
  return line ? line.toString('utf8').trim() : '';
}
