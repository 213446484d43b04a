/**
 * The signing policy (`--policy FILE`): limits an operator declares per chain and per
 * wallet, judged against what the transaction itself does — outputs, values, fee and
 * calldata decoded from the payload that is about to be signed (chains/*: decode*), never
 * from side fields the API sends along. A violation means the transaction is not signed.
 *
 * File (JSON; docs/runbook.md "Signing policy" has examples). Amounts are integers in the
 * chain's smallest unit (satoshi, wei, sun), as decimal strings (or JSON numbers up to
 * 2^53-1); `maxFee` is in coin units ("0.01" BTC) and `maxFeeRate` in sat/vB (UTXO) or
 * gwei (EVM), decimals allowed:
 *
 *   {
 *     "chains": {
 *       "ETH": {
 *         "maxAmount": "1000000000000000000",      // per transaction, native coin, fee included
 *         "maxPer24h": "5000000000000000000",      // rolling 24 h, from the journal, fees included
 *         "maxFee": "0.05",                        // ETH; replaces the built-in default
 *         "maxFeeRate": "200",                     // gwei per gas
 *         "allowedDestinations": ["0x…", "…"],     // native outputs, token recipients, approved spenders
 *         "allowContractCalls": false,             // any calldata other than a token transfer/approval
 *         "contracts": { "0xRouter…": ["0x38ed1739"] },   // or only these selectors on these contracts
 *         "allowDeploy": false,                    // contract creation (EVM `to` absent)
 *         "allowUnlimitedApprovals": false,        // approve ≥ 2^128, setApprovalForAll(…, true)
 *         "tokens": { "0xToken…": { "maxAmount": "…", "maxPer24h": "…" } }
 *       }
 *     },
 *     "wallets": { "<signatureId>": { …the same fields but maxFee / maxFeeRate… } }
 *   }
 *
 * Every rule that applies must pass: the rule of the transaction's chain and the rule of
 * each wallet whose key signs it. Built-in fee limits (BUILTIN_FEES) apply to every chain,
 * with or without a policy file. On mainnet a transaction no rule covers is refused
 * (default deny); on testnet it is allowed within the built-in limits. Whatever the rules,
 * a contract creation without init code is refused (the value would be locked forever),
 * and so are creations, unknown calldata and unlimited approvals that no rule allows.
 * When a rule lists `tokens`, other tokens are refused; without `tokens`, token amounts
 * are not limited (destinations still are). UTXO change: outputs paying back to a signing
 * key's own scripts are not counted as spent and need not be allowed destinations.
 *
 * Every map read from the file is null-prototype and looked up with Object.hasOwn: a
 * TRC-10 asset named `__proto__` or `constructor` is just another unlisted token.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { expecting, jsonMap, jsonSyntaxPlace, kindOf, parseOrThrow, strictJsonObject, v } from '../../validate.js';
import type { DecodedTx } from '../../chains/decoded.js';
import { tronBase58 } from '../../chains/tron/address.js';
import { firstDuplicateKey } from '../source/strict-json.js';

interface AssetLimits {
  maxAmount?: bigint;
  maxPer24h?: bigint;
  allowedDestinations?: string[];
}

interface PolicyRule extends AssetLimits {
  allowContractCalls: boolean;
  allowDeploy: boolean;
  allowUnlimitedApprovals: boolean;
  /** Smallest unit of the chain's coin (chain rules only). */
  maxFee?: bigint;
  /** UTXO: milli-satoshi per vbyte; EVM: wei per gas (chain rules only). */
  maxFeeRate?: bigint;
  /** Contract (normalised) → allowed 4-byte selectors (0x-hex, lowercase). Null-prototype. */
  contracts?: Record<string, string[]>;
  /** Null-prototype. */
  tokens?: Record<string, AssetLimits>;
}

export interface Policy {
  /** Null-prototype. */
  chains: Record<string, PolicyRule>;
  /** Null-prototype. */
  wallets: Record<string, PolicyRule>;
}

/** What one asset of a transaction moves to whom (change excluded). */
export interface Movement {
  /** 'native', or the token contract / asset id, normalised (lowercase for hex addresses). */
  asset: string;
  /** Native: outputs plus the fee. Token: the amount transferred or approved. */
  amount: bigint;
  /** Native: the part of `amount` that is the fee. */
  fee?: bigint;
  /** Token: an allowance granted (approve, increaseAllowance, setApprovalForAll), not a transfer. */
  approval?: boolean;
  /** Each recipient with every form it may be listed under (address and, for UTXO, script hex). */
  destinations: { shown: string; forms: string[] }[];
}

export interface PolicyContext {
  chain: string;
  /** Wallets whose keys sign the transaction. */
  signatureIds: readonly string[];
  /** Sum moved in the last 24 h by signed transactions, per scope ('chain' | 'wallet:<id>') and asset. */
  spent24h(scope: string, asset: string): bigint;
  /** Mainnet: a transaction that no rule covers is refused. */
  defaultDeny?: boolean;
}

type PolicyVerdict =
  { ok: true; rulesApplied: string[]; movements: Movement[] } | { ok: false; reason: string; rulesApplied: string[] };

type FeeUnit = 'sat/vB' | 'gwei';
interface ChainFees {
  decimals: number;
  unit: FeeUnit | undefined;
  /** Coin units. */
  maxFee: string;
  /** In `unit`. */
  maxFeeRate: string | undefined;
}

/**
 * Limits that hold without a policy file and until a chain rule replaces them: about
 * 20-100 times a busy day's fee for an ordinary transaction, far below what a
 * compromised API would ask for to burn funds as fees.
 */
const BUILTIN_FEES: Readonly<Record<string, ChainFees>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, ChainFees>, {
    BTC: { decimals: 8, unit: 'sat/vB', maxFee: '0.01', maxFeeRate: '500' },
    LTC: { decimals: 8, unit: 'sat/vB', maxFee: '0.1', maxFeeRate: '1000' },
    DOGE: { decimals: 8, unit: 'sat/vB', maxFee: '50', maxFeeRate: '100000' },
    BCH: { decimals: 8, unit: 'sat/vB', maxFee: '0.01', maxFeeRate: '100' },
    ETH: { decimals: 18, unit: 'gwei', maxFee: '0.1', maxFeeRate: '1000' },
    BSC: { decimals: 18, unit: 'gwei', maxFee: '0.05', maxFeeRate: '100' },
    MATIC: { decimals: 18, unit: 'gwei', maxFee: '20', maxFeeRate: '5000' },
    CELO: { decimals: 18, unit: 'gwei', maxFee: '1', maxFeeRate: '500' },
    KLAY: { decimals: 18, unit: 'gwei', maxFee: '10', maxFeeRate: '3000' },
    ONE: { decimals: 18, unit: 'gwei', maxFee: '50', maxFeeRate: '10000' },
    XDC: { decimals: 18, unit: 'gwei', maxFee: '10', maxFeeRate: '1000' },
    KCS: { decimals: 18, unit: 'gwei', maxFee: '1', maxFeeRate: '1000' },
    TRON: { decimals: 6, unit: undefined, maxFee: '200', maxFeeRate: undefined },
    // One-key chains: a flat fee per transaction (XRP drops, XLM stroops), limited by maxFee only.
    XRP: { decimals: 6, unit: undefined, maxFee: '1', maxFeeRate: undefined },
    XLM: { decimals: 7, unit: undefined, maxFee: '1', maxFeeRate: undefined },
    // VET: the fee is VTHO (gas × 10^13 wei × (1 + coef/255)), limited by maxFee only.
    VET: { decimals: 18, unit: undefined, maxFee: '100', maxFeeRate: undefined },
    // ALGO: also bounds Tatum's per-byte reading of an ASA fee (fee × size, chains §2.4).
    ALGO: { decimals: 6, unit: undefined, maxFee: '1', maxFeeRate: undefined },
    // SOL: 5000 lamports per signature plus any priority fee (lamports).
    SOL: { decimals: 9, unit: undefined, maxFee: '0.01', maxFeeRate: undefined },
    // EGLD: gas limit × gas price (atto-EGLD), the most the transaction can pay.
    EGLD: { decimals: 18, unit: undefined, maxFee: '0.01', maxFeeRate: undefined },
    // ADA: inputs − outputs (lovelace), exact; a simple transfer pays about 0.17 ADA.
    ADA: { decimals: 6, unit: undefined, maxFee: '2', maxFeeRate: undefined },
  }),
);
/** Any other chain: no fee above one coin. */
const UNKNOWN_CHAIN_FEES: ChainFees = { decimals: 18, unit: 'gwei', maxFee: '1', maxFeeRate: '1000' };

function feesOf(chain: string): ChainFees {
  return Object.hasOwn(BUILTIN_FEES, chain) ? BUILTIN_FEES[chain]! : UNKNOWN_CHAIN_FEES;
}

/** An allowance at or above this is unlimited in effect (no real token has such a supply). */
const UNLIMITED_APPROVAL = 1n << 128n;

const RULE_FIELDS = [
  'maxAmount',
  'maxPer24h',
  'maxFee',
  'maxFeeRate',
  'allowedDestinations',
  'allowContractCalls',
  'contracts',
  'allowDeploy',
  'allowUnlimitedApprovals',
  'tokens',
];
const ASSET_FIELDS = ['maxAmount', 'maxPer24h', 'allowedDestinations'];
const POLICY_HINT = 'See "Signing policy" in docs/runbook.md for the format and examples.';

export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `Cannot read the policy file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      'Check --policy.',
    );
  }
  return parsePolicy(text, file);
}

/**
 * Parses and validates a policy; every error names the file and the JSON path and never
 * repeats a value of the file (it may be the wrong file, e.g. the approver's key).
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const place = jsonSyntaxPlace(text, e);
    throw new InputError(`${source} is not valid JSON${place === undefined ? '' : ` (${place})`}.`, POLICY_HINT);
  }
  const dup = firstDuplicateKey(text);
  if (dup !== undefined)
    throw new InputError(
      `${source}: the key ${JSON.stringify(dup)} appears twice in one object.`,
      'Write each key once; a repeated key is ambiguous.',
    );
  return parseOrThrow(policyFile, json, (why) => new InputError(`${source}: ${why}.`, POLICY_HINT));
}

/** A decimal number of coin units (or fee-rate units) as an integer of 10^-decimals, or why not. */
function decimalUnits(a: unknown, decimals: number): bigint | string {
  const text = typeof a === 'number' && Number.isFinite(a) && a >= 0 ? String(a) : a;
  const m = typeof text === 'string' ? /^(0|[1-9][0-9]{0,40})(?:\.([0-9]+))?$/.exec(text) : null;
  if (m === null) return 'expected a non-negative decimal number';
  const frac = m[2] ?? '';
  if (frac.length > decimals) return `has more than ${decimals} decimal places`;
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

function decimalField(decimals: number, example: string) {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const r = decimalUnits(dataset.value, decimals);
      if (typeof r === 'bigint') return r;
      addIssue({ message: r.startsWith('expected') ? `${r} ${example}, got ${kindOf(dataset.value)}` : r });
      return NEVER;
    }),
  );
}

const refused = (why: string) => v.custom<never>(() => false, why);

const amount = v.pipe(
  v.custom<number | string>(
    (a) =>
      (typeof a === 'number' && Number.isSafeInteger(a) && a >= 0) ||
      (typeof a === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(a)),
    expecting('a non-negative integer in the smallest unit (a decimal string, e.g. "1000000")'),
  ),
  v.transform((a) => BigInt(a)),
);

const destinations = v.pipe(
  v.custom<string[]>(
    (d) => Array.isArray(d) && d.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200),
    expecting('an array of address strings'),
  ),
  v.transform((d) => d.map(normalise)),
);

const selectors = v.pipe(
  v.custom<string[]>(
    (s) => Array.isArray(s) && s.every((x) => typeof x === 'string' && /^0x[0-9a-fA-F]{8}$/.test(x)),
    expecting('an array of 4-byte selectors such as "0xa9059cbb"'),
  ),
  v.transform((s) => s.map((x) => x.toLowerCase())),
);

const flag = v.optional(v.boolean(expecting('true or false')), false);

const limitEntries = {
  maxAmount: v.optional(amount),
  maxPer24h: v.optional(amount),
  allowedDestinations: v.optional(destinations),
};

const tokenLimits = strictJsonObject(
  limitEntries,
  'an object (token limits)',
  `not a token limit (${ASSET_FIELDS.join(', ')})`,
);

/** A rule of `chains.<chain>`, or of `wallets.<id>` when `chain` is undefined (no fee limits there). */
function ruleSchema(chain: string | undefined) {
  const perChain = refused('a per-chain limit: set it under chains.<CHAIN>');
  const fees = chain === undefined ? undefined : feesOf(chain);
  return strictJsonObject(
    {
      ...limitEntries,
      maxFee: v.optional(fees === undefined ? perChain : decimalField(fees.decimals, 'in coin units, e.g. "0.01"')),
      maxFeeRate: v.optional(
        fees === undefined
          ? perChain
          : fees.unit === undefined
            ? refused(`does not apply to ${chain} (its fee is limited by maxFee only)`)
            : decimalField(fees.unit === 'gwei' ? 9 : 3, `in ${fees.unit}, e.g. "50"`),
      ),
      allowContractCalls: flag,
      allowDeploy: flag,
      allowUnlimitedApprovals: flag,
      contracts: v.optional(
        jsonMap({
          value: selectors,
          normaliseKey: normalise,
          sameAs: 'the same contract as',
          what: 'an object: contract address → list of 4-byte selectors',
        }),
      ),
      tokens: v.optional(
        jsonMap({
          value: tokenLimits,
          normaliseKey: normalise,
          sameAs: 'the same token as',
          what: 'an object keyed by token contract',
        }),
      ),
    },
    'an object (a policy rule)',
    `not a rule field (${RULE_FIELDS.join(', ')})`,
  );
}

const policyFile = v.pipe(
  strictJsonObject(
    {
      chains: v.optional(
        jsonMap({
          key: v.pipe(v.string(), v.regex(/^[A-Z]{2,6}$/, 'not a chain code (uppercase, e.g. ETH)')),
          value: (chain) => ruleSchema(chain),
        }),
      ),
      wallets: v.optional(
        jsonMap({
          key: v.pipe(v.string(), v.minLength(1), v.maxLength(100, 'not a signature id (1 to 100 characters)')),
          value: ruleSchema(undefined),
        }),
      ),
    },
    'a JSON object with "chains" and/or "wallets"',
    'not a policy section (use "chains" and "wallets")',
  ),
  v.transform((p): Policy => ({
    chains: p.chains ?? (Object.create(null) as Record<string, PolicyRule>),
    wallets: p.wallets ?? (Object.create(null) as Record<string, PolicyRule>),
  })),
);

/**
 * Hex addresses (0x…, xdc…, TRON 41…) compare case-insensitively, XDC's prefix as 0x;
 * base58 and bech32 addresses compare as written (bech32 is lowercase by rule).
 */
function normalise(address: string): string {
  const a = address.trim();
  if (/^xdc[0-9a-fA-F]{40}$/.test(a)) return `0x${a.slice(3).toLowerCase()}`;
  if (/^(0x)?[0-9a-fA-F]+$/.test(a)) return a.toLowerCase();
  if (/^[a-z0-9]+1[02-9ac-hj-np-z]+$/i.test(a)) return a.toLowerCase();
  return a;
}

const SELECTOR_APPROVE = '095ea7b3';
const SELECTOR_INCREASE_ALLOWANCE = '39509351';
const SELECTOR_SET_APPROVAL_FOR_ALL = 'a22cb465';
const APPROVAL_SELECTORS = new Set([SELECTOR_APPROVE, SELECTOR_INCREASE_ALLOWANCE, SELECTOR_SET_APPROVAL_FOR_ALL]);

/** An allowance granted by calldata: approve / increaseAllowance (amount) or setApprovalForAll (all or nothing). */
interface Approval {
  spender: string;
  amount: bigint;
}

/**
 * Reads an approval from calldata (hex, no 0x). `canonical: false` when the selector is an
 * approval's but the arguments are not in their exact ABI form: tokens disagree on how
 * they read such data, so it is refused rather than guessed.
 */
function approvalOf(
  chain: string,
  data: string | undefined,
): { canonical: true; approval: Approval } | { canonical: false } | undefined {
  if (data === undefined || data.length < 8) return undefined;
  const d = data.toLowerCase();
  const selector = d.slice(0, 8);
  if (!APPROVAL_SELECTORS.has(selector)) return undefined;
  if (d.length !== 8 + 128 || !/^0{24}/.test(d.slice(8, 72))) return { canonical: false };
  const spender = spenderAddress(chain, d.slice(32, 72));
  const word = BigInt('0x' + d.slice(72));
  if (selector === SELECTOR_SET_APPROVAL_FOR_ALL) {
    if (word > 1n) return { canonical: false };
    return { canonical: true, approval: { spender, amount: word === 1n ? (1n << 256n) - 1n : 0n } };
  }
  return { canonical: true, approval: { spender, amount: word } };
}

/** A 20-byte address from calldata in the chain's usual form: 0x… (EVM) or base58 T… (TRON, as decodeTron writes recipients). */
function spenderAddress(chain: string, hex40: string): string {
  return chain === 'TRON' ? tronBase58(Uint8Array.from(Buffer.from(`41${hex40}`, 'hex'))) : `0x${hex40}`;
}

/**
 * What the decoded transaction moves, per asset. `ownScripts` (UTXO) are the scripts of
 * the signing keys: outputs to them are change. Zero-value native outputs (the contract
 * called by a token transfer) move nothing and are not destinations. The fee is part of
 * the native amount: it leaves the wallet as surely as an output does.
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
  if (decoded.fee !== undefined && decoded.fee > 0n) {
    native.amount += decoded.fee;
    native.fee = decoded.fee;
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
  const approval =
    decoded.call?.kind === 'call' && decoded.call.to !== undefined
      ? approvalOf(decoded.chain, decoded.call.data)
      : undefined;
  if (approval?.canonical === true) {
    const spender = normalise(approval.approval.spender);
    out.push({
      asset: normalise(decoded.call!.to!),
      amount: approval.approval.amount,
      approval: true,
      destinations: [{ shown: spender, forms: [spender] }],
    });
  }
  return out;
}

interface AppliedRule {
  name: string;
  scope: string;
  rule: PolicyRule;
}

export function evaluatePolicy(
  policy: Policy | undefined,
  decoded: DecodedTx,
  ctx: PolicyContext,
  ownScripts?: ReadonlySet<string>,
): PolicyVerdict {
  const movements = movementsOf(decoded, ownScripts);
  const rules: AppliedRule[] = [];
  const chainRule =
    policy !== undefined && Object.hasOwn(policy.chains, ctx.chain) ? policy.chains[ctx.chain] : undefined;
  if (chainRule !== undefined) rules.push({ name: `chains.${ctx.chain}`, scope: 'chain', rule: chainRule });
  const uncovered: string[] = [];
  for (const id of ctx.signatureIds) {
    const r = policy !== undefined && Object.hasOwn(policy.wallets, id) ? policy.wallets[id] : undefined;
    if (r !== undefined) rules.push({ name: `wallets.${id}`, scope: `wallet:${id}`, rule: r });
    else uncovered.push(id);
  }
  const rulesApplied = rules.map((r) => r.name);
  const refuse = (reason: string): PolicyVerdict => ({ ok: false, rulesApplied, reason });

  if (ctx.defaultDeny === true && chainRule === undefined && (uncovered.length > 0 || ctx.signatureIds.length === 0)) {
    const missing = [`chains.${ctx.chain}`, ...uncovered.map((id) => `wallets.${id}`)];
    return refuse(
      `no policy rule covers this ${ctx.chain} transaction (mainnet denies by default): add ${missing.length === 1 ? missing[0] : `${missing[0]}, or ${missing.slice(1).join(' and ')}`} to the policy file`,
    );
  }

  const fee = checkFee(decoded, ctx.chain, chainRule);
  if (fee !== undefined) return refuse(fee);

  const call = decoded.call;
  if (call?.kind === 'deploy') {
    if (call.dataLength === 0) {
      return refuse(
        'a contract creation without init code (no recipient and no data) is never signed: its value would be locked forever',
      );
    }
    const denying =
      rules.length === 0
        ? 'no policy rule allows deploys'
        : rules.filter((r) => !r.rule.allowDeploy).map((r) => `policy ${r.name}: allowDeploy is false`)[0];
    if (denying !== undefined) return refuse(`a contract deployment (no recipient) is not allowed (${denying})`);
  } else if (call !== undefined) {
    const approval = approvalOf(decoded.chain, call.data);
    const what = `a contract call${call.selector ? ` (selector ${call.selector})` : ''}${call.to !== undefined ? ` to ${call.to}` : ''}`;
    if (approval?.canonical === false)
      return refuse(`${what}: an approval whose arguments are not in canonical ABI form is never signed`);
    if (approval === undefined) {
      if (rules.length === 0)
        return refuse(
          `${what} with unknown calldata is not allowed: no policy rule allows it (allowContractCalls, or contracts with this selector)`,
        );
      for (const { name, rule } of rules) {
        if (rule.allowContractCalls) continue;
        const contract = call.to === undefined ? undefined : normalise(call.to);
        const allowed =
          contract !== undefined &&
          call.selector !== undefined &&
          rule.contracts !== undefined &&
          Object.hasOwn(rule.contracts, contract)
            ? rule.contracts[contract]!.includes(call.selector.toLowerCase())
            : false;
        if (!allowed)
          return refuse(
            `policy ${name}: ${what} is not allowed (allowContractCalls is false and contracts does not list it)`,
          );
      }
    }
  }

  for (const m of movements) {
    if (m.approval === true && m.amount >= UNLIMITED_APPROVAL) {
      const denying =
        rules.length === 0
          ? 'no policy rule allows it'
          : rules
              .filter((r) => !r.rule.allowUnlimitedApprovals)
              .map((r) => `policy ${r.name}: allowUnlimitedApprovals is false`)[0];
      if (denying !== undefined)
        return refuse(
          `an unlimited approval of token ${m.asset} to ${m.destinations[0]?.shown ?? '?'} is not allowed (${denying})`,
        );
    }
  }

  for (const { name, scope, rule } of rules) {
    for (const m of movements) {
      let limits: AssetLimits = rule;
      if (m.asset !== 'native') {
        if (rule.tokens !== undefined) {
          if (!Object.hasOwn(rule.tokens, m.asset))
            return refuse(`policy ${name}: token ${m.asset} is not in the allowed tokens`);
          const t = rule.tokens[m.asset]!;
          limits = { ...t, allowedDestinations: t.allowedDestinations ?? rule.allowedDestinations };
        } else limits = { allowedDestinations: rule.allowedDestinations };
      }
      const label = m.asset === 'native' ? ctx.chain : `token ${m.asset}${m.approval === true ? ' (approval)' : ''}`;
      const shown = m.fee !== undefined ? `${m.amount} (${m.amount - m.fee} sent + ${m.fee} fee)` : `${m.amount}`;
      if (limits.maxAmount !== undefined && m.amount > limits.maxAmount) {
        return refuse(`policy ${name}: ${label} amount ${shown} exceeds maxAmount ${limits.maxAmount}`);
      }
      if (limits.maxPer24h !== undefined) {
        const spent = ctx.spent24h(scope, m.asset);
        if (spent + m.amount > limits.maxPer24h) {
          return refuse(
            `policy ${name}: ${label} amount ${shown} plus ${spent} signed in the last 24 h exceeds maxPer24h ${limits.maxPer24h}`,
          );
        }
      }
      if (limits.allowedDestinations !== undefined) {
        const allowed = new Set(limits.allowedDestinations);
        const refused = m.destinations.filter((d) => !d.forms.some((f) => allowed.has(f))).map((d) => d.shown);
        if (refused.length > 0)
          return refuse(`policy ${name}: destination ${refused.join(', ')} is not in allowedDestinations`);
      }
    }
  }
  return { ok: true, rulesApplied, movements };
}

/** The fee against the chain rule's maxFee / maxFeeRate, or the built-in ones; a reason when over. */
function checkFee(decoded: DecodedTx, chain: string, rule: PolicyRule | undefined): string | undefined {
  const fees = feesOf(chain);
  const source = (own: boolean): string => (own ? `policy chains.${chain}` : 'the built-in limit');
  const maxFee = rule?.maxFee ?? builtin(fees.maxFee, fees.decimals);
  if (decoded.fee !== undefined && decoded.fee > maxFee) {
    return `fee ${formatUnits(decoded.fee, fees.decimals)} ${chain} exceeds maxFee ${formatUnits(maxFee, fees.decimals)} ${chain} (${source(rule?.maxFee !== undefined)})`;
  }
  if (fees.unit === undefined) return undefined;
  const scale = fees.unit === 'gwei' ? 9 : 3;
  const builtinRate = fees.maxFeeRate === undefined ? undefined : builtin(fees.maxFeeRate, scale);
  const maxRate = rule?.maxFeeRate ?? builtinRate;
  if (maxRate === undefined) return undefined;
  const own = rule?.maxFeeRate !== undefined;
  if (fees.unit === 'gwei' && decoded.feePerGas !== undefined && decoded.feePerGas > maxRate) {
    return `fee rate ${formatUnits(decoded.feePerGas, 9)} gwei exceeds maxFeeRate ${formatUnits(maxRate, 9)} gwei (${source(own)})`;
  }
  if (fees.unit === 'sat/vB' && decoded.fee !== undefined && decoded.vsize !== undefined && decoded.vsize > 0) {
    // fee / vsize > maxRate / 1000, without division.
    if (decoded.fee * 1000n > maxRate * BigInt(decoded.vsize)) {
      const rate = (decoded.fee * 1000n) / BigInt(decoded.vsize);
      return `fee rate ${formatUnits(rate, 3)} sat/vB (about ${decoded.vsize} vbytes) exceeds maxFeeRate ${formatUnits(maxRate, 3)} sat/vB (${source(own)})`;
    }
  }
  return undefined;
}

/** A built-in limit of BUILTIN_FEES in units (a typo there is a bug, not an operator's error). */
function builtin(text: string, decimals: number): bigint {
  const r = decimalUnits(text, decimals);
  if (typeof r !== 'bigint') throw new Error(`bad built-in fee limit ${text}`);
  return r;
}

function formatUnits(value: bigint, decimals: number): string {
  const s = value.toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  return frac === '' ? whole : `${whole}.${frac}`;
}
