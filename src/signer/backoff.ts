/**
 * The poll loop's backoff after failures: exponential, capped, with jitter, so that many
 * daemons behind one API do not retry in step.
 */
interface BackoffOptions {
  /** First delay after a failure, ms. Default 1 000. */
  baseMs?: number;
  /** Upper bound, ms. Default 300 000 (5 min). */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** Fraction of the delay removed at random (0 = none, 1 = "full jitter"). Default 0.2. */
  jitter?: number;
}

/**
 * Delay before the next attempt after `failures` consecutive failures (failures ≥ 1), given
 * a uniform random number in [0, 1). Pure: the daemon and tests pass the random number.
 * Returns 0 for failures ≤ 0.
 */
export function backoffDelay(failures: number, random: number, options: BackoffOptions = {}): number {
  if (!(failures > 0)) return 0;
  const base = options.baseMs ?? 1_000;
  const max = options.maxMs ?? 300_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  // Exponent capped so huge failure counts cannot overflow to Infinity/NaN.
  const raw = base * Math.pow(factor, Math.min(failures - 1, 64));
  const capped = Math.min(max, Number.isFinite(raw) ? raw : max);
  const r = Math.min(1, Math.max(0, random));
  return Math.round(capped * (1 - jitter * r));
}

/** Consecutive-failure counter around backoffDelay. */
export class Backoff {
  private failureCount = 0;

  constructor(
    private readonly options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  get failures(): number {
    return this.failureCount;
  }

  /** Records a failure and returns how long to wait before trying again, ms. */
  failure(): number {
    this.failureCount += 1;
    return backoffDelay(this.failureCount, this.random(), this.options);
  }

  /** Records a success: the next failure starts again from the base delay. */
  success(): void {
    this.failureCount = 0;
  }

  /** Wait before the next poll: the normal period, or the backoff delay if that is longer. */
  nextWait(periodMs: number): number {
    return this.failureCount === 0
      ? periodMs
      : Math.max(periodMs, backoffDelay(this.failureCount, this.random(), this.options));
  }
}
