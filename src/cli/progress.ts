/**
 * Progress of a long command on stderr (batch generation, import-legacy, export, re-keying):
 * count, rate and ETA. On a terminal one line redrawn in place at most every 100 ms; when
 * stderr is not a terminal (a log, a pipe, CI) plain lines, the first at once, then at most
 * one every 2 s, and the last. Only counts and the label are printed: never a key, an
 * address or a signature id (those go to stdout where the command prints them).
 */

interface Progress {
  /** `done` of the total so far (and the total, when it is known only now). Cheap to call per item: it prints only when due. */
  update(done: number, total?: number): void;
  /** The final line (also on a terminal, so the line is ended). */
  finish(): void;
  readonly done: number;
}

interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  now?: () => number;
  /** Force the terminal form (true) or the plain lines (false); default: the stream's isTTY. */
  tty?: boolean;
}

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 2_000;
/** Below this many items a command is quick: nothing is printed. */
const PROGRESS_MIN_ITEMS = 50;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** `label`: what is counted, e.g. "keys generated"; `total` items in all. */
export function startProgress(label: string, totalAtStart: number, options: ProgressOptions = {}): Progress {
  let total = totalAtStart;
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? ((): number => Date.now());
  const tty = options.tty ?? stream.isTTY === true;
  const quiet = (): boolean => total < PROGRESS_MIN_ITEMS;
  const started = now();
  let last = -Infinity;
  let done = 0;
  let finished = false;

  const line = (): string => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const eta = done >= total ? 'done' : rate > 0 ? `ETA ${duration((total - done) / rate)}` : 'ETA ?';
    const rateText = rate >= 10 ? `${Math.round(rate)}/s` : `${rate.toFixed(1)}/s`;
    if (!tty)
      return `progress: ${label} ${done}/${total} (${pct}%), ${rateText}, ${eta}${done >= total ? ` in ${duration(elapsed)}` : ''}`;
    const width = 24;
    const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${pct}% ${rateText} ${eta}`;
  };
  const print = (): void => {
    last = now();
    stream.write(tty ? `\r\x1b[2K${line()}` : `${line()}\n`);
  };

  return {
    get done() {
      return done;
    },
    update(n: number, newTotal?: number): void {
      done = n;
      if (newTotal !== undefined) total = newTotal;
      if (quiet() || finished) return;
      if (now() - last >= (tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) print();
    },
    finish(): void {
      if (quiet() || finished || done === 0) return;
      finished = true;
      print();
      if (tty) stream.write('\n');
    },
  };
}
