/**
 * The signing policy (`--policy FILE`): limits an operator declares per chain and per
 * wallet, judged against what the transaction itself does — outputs and values decoded
 * from the payload that is about to be signed (chains/*: decode*), never from side fields
 * the API sends along. A violation means the transaction is not signed.
 *
 * File (JSON). Amounts are integers in the chain's smallest unit (satoshi, wei, sun), as
 * decimal strings (or JSON numbers up to 2^53-1):
 *
 *   {
 *     "chains": {
 *       "ETH": {
 *         "maxAmount": "1000000000000000000",      // per transaction, native coin
 *         "maxPer24h": "5000000000000000000",      // rolling 24 h, from the journal
 *         "allowedDestinations": ["0x…", "…"],     // native outputs and token recipients
 *         "allowContractCalls": false,             // calldata other than an ERC-20/TRC-20 transfer (default false)
 *         "tokens": { "0xToken…": { "maxAmount": "…", "maxPer24h": "…" } }
 *       }
 *     },
 *     "wallets": { "<signatureId>": { …the same fields… } }
 *   }
 *
 * Every rule that applies must pass: the rule of the transaction's chain and the rule of
 * each wallet whose key signs it. A transaction no rule applies to is allowed. When a rule
 * lists `tokens`, other tokens are refused; without `tokens`, token amounts are not limited
 * (destinations still are). UTXO change: outputs paying back to a signing key's own
 * scripts are not counted as spent and need not be allowed destinations.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { DecodedTx } from '../chains/decoded.js';

export interface AssetLimits {
  maxAmount?: bigint;
  maxPer24h?: bigint;
  allowedDestinations?: string[];
}

export interface PolicyRule extends AssetLimits {
  allowContractCalls: boolean;
  tokens?: Record<string, AssetLimits>;
}

export interface Policy {
  chains: Record<string, PolicyRule>;
  wallets: Record<string, PolicyRule>;
}

/** What one asset of a transaction moves to whom (change excluded). */
export interface Movement {
  /** 'native', or the token contract / asset id, normalised (lowercase for hex addresses). */
  asset: string;
  amount: bigint;
  /** Each recipient with every form it may be listed under (address and, for UTXO, script hex). */
  destinations: { shown: string; forms: string[] }[];
}

export interface PolicyContext {
  chain: string;
  /** Wallets whose keys sign the transaction. */
  signatureIds: readonly string[];
  /** Sum moved in the last 24 h by signed transactions, per scope ('chain' | 'wallet:<id>') and asset. */
  spent24h(scope: string, asset: string): bigint;
}

export type PolicyVerdict = { ok: true; rulesApplied: string[]; movements: Movement[] } | { ok: false; reason: string; rulesApplied: string[] };

const RULE_KEYS = new Set(['maxAmount', 'maxPer24h', 'allowedDestinations', 'allowContractCalls', 'tokens']);
const ASSET_KEYS = new Set(['maxAmount', 'maxPer24h', 'allowedDestinations']);

export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`Cannot read the policy file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check --policy.');
  }
  return parsePolicy(text, file);
}

/** Parses and validates a policy; every error names the file and the JSON path. */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source} is not valid JSON: ${(e as Error).message}.`, 'The policy file is a JSON object with "chains" and/or "wallets".');
  }
  const bad = (path: string, why: string): never => {
    throw new InputError(`${source}: ${path} ${why}.`, 'See the policy format in the hardkms daemon documentation (src/signer/policy.ts).');
  };
  if (!isObject(json)) return bad('(top level)', 'must be a JSON object');
  for (const k of Object.keys(json)) if (k !== 'chains' && k !== 'wallets') bad(k, 'is not a policy section (use "chains" and "wallets")');
  const section = (name: 'chains' | 'wallets'): Record<string, PolicyRule> => {
    const v = json[name];
    if (v === undefined) return {};
    if (!isObject(v)) return bad(name, 'must be an object');
    const out: Record<string, PolicyRule> = {};
    for (const [key, rule] of Object.entries(v)) {
      if (name === 'chains' && !/^[A-Z]{2,6}$/.test(key)) bad(`${name}.${key}`, 'is not a chain code (uppercase, e.g. ETH)');
      if (name === 'wallets' && (key.length === 0 || key.length > 100)) bad(`${name}.${key}`, 'is not a signature id');
      out[key] = readRule(rule, `${name}.${key}`, bad);
    }
    return out;
  };
  return { chains: section('chains'), wallets: section('wallets') };
}

type Bad = (path: string, why: string) => never;

function readRule(v: unknown, path: string, bad: Bad): PolicyRule {
  if (!isObject(v)) return bad(path, 'must be an object');
  for (const k of Object.keys(v)) if (!RULE_KEYS.has(k)) bad(`${path}.${k}`, `is not a rule field (${[...RULE_KEYS].join(', ')})`);
  const rule: PolicyRule = { ...readLimits(v, path, bad), allowContractCalls: false };
  if (v.allowContractCalls !== undefined) {
    if (typeof v.allowContractCalls !== 'boolean') bad(`${path}.allowContractCalls`, 'must be true or false');
    rule.allowContractCalls = v.allowContractCalls as boolean;
  }
  if (v.tokens !== undefined) {
    if (!isObject(v.tokens)) return bad(`${path}.tokens`, 'must be an object keyed by token contract');
    rule.tokens = {};
    for (const [contract, limits] of Object.entries(v.tokens)) {
      if (!isObject(limits)) return bad(`${path}.tokens.${contract}`, 'must be an object');
      for (const k of Object.keys(limits))
        if (!ASSET_KEYS.has(k)) bad(`${path}.tokens.${contract}.${k}`, `is not a token limit (${[...ASSET_KEYS].join(', ')})`);
      rule.tokens[normalise(contract)] = readLimits(limits, `${path}.tokens.${contract}`, bad);
    }
  }
  return rule;
}

function readLimits(v: Record<string, unknown>, path: string, bad: Bad): AssetLimits {
  const out: AssetLimits = {};
  const amount = (k: 'maxAmount' | 'maxPer24h'): void => {
    const a = v[k];
    if (a === undefined) return;
    if (typeof a === 'number' && Number.isSafeInteger(a) && a >= 0) out[k] = BigInt(a);
    else if (typeof a === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(a)) out[k] = BigInt(a);
    else bad(`${path}.${k}`, 'must be a non-negative integer in the smallest unit (a decimal string, e.g. "1000000")');
  };
  amount('maxAmount');
  amount('maxPer24h');
  if (v.allowedDestinations !== undefined) {
    const d = v.allowedDestinations;
    if (!Array.isArray(d) || !d.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)) {
      return bad(`${path}.allowedDestinations`, 'must be an array of address strings');
    }
    out.allowedDestinations = (d as string[]).map(normalise);
  }
  return out;
}

/**
 * Hex addresses (0x…, xdc…, TRON 41…) compare case-insensitively, XDC's prefix as 0x;
 * base58 and bech32 addresses compare as written (bech32 is lowercase by rule).
 */
export function normalise(address: string): string {
  const a = address.trim();
  if (/^xdc[0-9a-fA-F]{40}$/.test(a)) return `0x${a.slice(3).toLowerCase()}`;
  if (/^(0x)?[0-9a-fA-F]+$/.test(a)) return a.toLowerCase();
  if (/^[a-z0-9]+1[02-9ac-hj-np-z]+$/i.test(a)) return a.toLowerCase();
  return a;
}

/**
 * What the decoded transaction moves, per asset. `ownScripts` (UTXO) are the scripts of
 * the signing keys: outputs to them are change. Zero-value native outputs (the contract
 * called by a token transfer) move nothing and are not destinations.
 */
export function movementsOf(decoded: DecodedTx, ownScripts: ReadonlySet<string> = new Set()): Movement[] {
  const native: Movement = { asset: 'native', amount: 0n, destinations: [] };
  for (const o of decoded.outputs) {
    if (o.script !== undefined && ownScripts.has(o.script.toLowerCase())) continue;
    if (o.amount === 0n) continue;
    native.amount += o.amount;
    const forms = [o.address, o.script].filter((f): f is string => f !== undefined).map(normalise);
    native.destinations.push({ shown: forms[0] ?? '(contract creation)', forms });
  }
  const out: Movement[] = [];
  if (native.amount > 0n || native.destinations.length > 0) out.push(native);
  if (decoded.token !== undefined) {
    out.push({
      asset: normalise(decoded.token.contract),
      amount: decoded.token.amount,
      destinations: [{ shown: normalise(decoded.token.to), forms: [normalise(decoded.token.to)] }],
    });
  }
  return out;
}

export function evaluatePolicy(policy: Policy, decoded: DecodedTx, ctx: PolicyContext, ownScripts?: ReadonlySet<string>): PolicyVerdict {
  const movements = movementsOf(decoded, ownScripts);
  const rules: { name: string; scope: string; rule: PolicyRule }[] = [];
  const chainRule = policy.chains[ctx.chain];
  if (chainRule !== undefined) rules.push({ name: `chains.${ctx.chain}`, scope: 'chain', rule: chainRule });
  for (const id of ctx.signatureIds) {
    const r = policy.wallets[id];
    if (r !== undefined) rules.push({ name: `wallets.${id}`, scope: `wallet:${id}`, rule: r });
  }
  const rulesApplied = rules.map((r) => r.name);
  for (const { name, scope, rule } of rules) {
    if (decoded.call !== undefined && !rule.allowContractCalls) {
      const what =
        decoded.call.kind === 'deploy' ? 'a contract deployment' : `a contract call${decoded.call.selector ? ` (selector ${decoded.call.selector})` : ''}`;
      return { ok: false, rulesApplied, reason: `policy ${name}: ${what} is not allowed (allowContractCalls is false)` };
    }
    for (const m of movements) {
      let limits: AssetLimits = rule;
      if (m.asset !== 'native') {
        if (rule.tokens !== undefined) {
          const t = rule.tokens[m.asset];
          if (t === undefined) return { ok: false, rulesApplied, reason: `policy ${name}: token ${m.asset} is not in the allowed tokens` };
          limits = { ...t, allowedDestinations: t.allowedDestinations ?? rule.allowedDestinations };
        } else limits = { allowedDestinations: rule.allowedDestinations };
      }
      const label = m.asset === 'native' ? ctx.chain : `token ${m.asset}`;
      if (limits.maxAmount !== undefined && m.amount > limits.maxAmount) {
        return { ok: false, rulesApplied, reason: `policy ${name}: ${label} amount ${m.amount} exceeds maxAmount ${limits.maxAmount}` };
      }
      if (limits.maxPer24h !== undefined) {
        const spent = ctx.spent24h(scope, m.asset);
        if (spent + m.amount > limits.maxPer24h) {
          return {
            ok: false,
            rulesApplied,
            reason: `policy ${name}: ${label} amount ${m.amount} plus ${spent} signed in the last 24 h exceeds maxPer24h ${limits.maxPer24h}`,
          };
        }
      }
      if (limits.allowedDestinations !== undefined) {
        const allowed = new Set(limits.allowedDestinations);
        const refused = m.destinations.filter((d) => !d.forms.some((f) => allowed.has(f))).map((d) => d.shown);
        if (refused.length > 0) return { ok: false, rulesApplied, reason: `policy ${name}: destination ${refused.join(', ')} is not in allowedDestinations` };
      }
    }
  }
  return { ok: true, rulesApplied, movements };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
