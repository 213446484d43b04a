/**
 * EVM payload gaps (nonce, gas limit, gas price / EIP-1559 fees) filled before signing,
 * from the operator's own node (`HARDKMS_RPC_<CHAIN>`) when one is configured, else from
 * the Tatum API with the daemon's API key, as Tatum KMS does (§3.5 fill-in table, §2.10):
 *
 * - nonce: ETH, BSC, XDC `GET /v3/{chain}/transaction/count/{address}`; other chains web3
 *   `eth_getTransactionCount` on Tatum's proxy (hardkms asks for 'pending', Tatum 'latest');
 * - gas limit: `eth_estimateGas` on the proxy (CELO adds 100 000, as Tatum's CELO signer);
 * - gas price: ETH `GET /v3/blockchain/fee/ETH` `.medium`; BSC a fixed 10 gwei and KCS
 *   1 gwei (Tatum's rules); other chains `eth_gasPrice` on the proxy (MATIC: Tatum asks the
 *   Polygon gas station, a third party, which hardkms does not call).
 *
 * Differences from Tatum KMS, on purpose: a nonce of 0 is a nonce (Tatum refetches it,
 * §7.16); values the payload carries are never replaced, except the gas limit of ETH
 * off-chain withdrawals, which Tatum always re-estimates; and the chain id of whatever
 * source fills (node or Tatum proxy) is checked against the pinned one (chain-ids.ts) once,
 * before the first value is taken from it: a source on another network must not supply
 * nonces or fees. Without a node and without Tatum, a gap is an error, not a guess.
 */
import { HardkmsError } from '../../errors.js';
import { missingEvmFields, parseEvmPayload, type EvmFill } from '../../chains/evm/payload.js';
import {
  HEADER_API_KEY,
  TATUM_ETH_FEE_PATH,
  TATUM_TX_COUNT_PATHS,
  TATUM_WEB3_PATHS,
  type TatumChain,
} from '../source/tatum-paths.js';
import { HttpClient } from '../http.js';
import { check, kindOf, v } from '../../validate.js';
import { EvmRpc, type EvmCallRequest } from '../sinks/node-rpc.js';

interface EvmFillContext {
  /** ETH off-chain withdrawal (withdrawalId set): the gas limit is always re-estimated. */
  withdrawal?: boolean;
}

export interface EvmFiller {
  chainId(chain: string): bigint;
  /** Values for the fields the payload lacks; {} when it lacks none. */
  fill(chain: string, payload: string, from: string, context?: EvmFillContext): Promise<EvmFill>;
  /** Whether a transaction hash is mined (a receipt exists); undefined when no source can say. */
  isMined?(chain: string, txHash: string): Promise<boolean | undefined>;
}

/** Where fill values come from: the questions the fill asks, whoever answers them. */
export interface EvmFillSource {
  /** For messages: `HARDKMS_RPC_ETH` or `the Tatum API (ETH web3 proxy)`. */
  readonly label: string;
  chainId(): Promise<bigint>;
  nonce(address: string): Promise<bigint>;
  estimateGas(tx: EvmCallRequest): Promise<bigint>;
  gasPrice(): Promise<bigint>;
  maxPriorityFeePerGas(): Promise<bigint>;
  latestBaseFee(): Promise<bigint | undefined>;
  /** eth_getTransactionReceipt(hash) !== null. */
  isMined(txHash: string): Promise<boolean>;
}

/** The operator's own node. */
function nodeFillSource(chain: string, rpc: EvmRpc): EvmFillSource {
  return {
    label: `HARDKMS_RPC_${chain}`,
    chainId: () => rpc.chainId(),
    nonce: (a) => rpc.getTransactionCount(a, 'pending'),
    estimateGas: (tx) => rpc.estimateGas(tx),
    gasPrice: () => rpc.gasPrice(),
    maxPriorityFeePerGas: () => rpc.maxPriorityFeePerGas(),
    latestBaseFee: () => rpc.latestBaseFee(),
    isMined: async (h) => (await rpc.getTransactionReceipt(h)) !== null,
  };
}

const GWEI = 1_000_000_000n;
/** Tatum's fixed gas prices (§3.5; §7.18 calls them odd, but they are what Tatum signs with). */
const FIXED_GAS_PRICE: Readonly<Partial<Record<string, bigint>>> = { BSC: 10n * GWEI, KCS: 1n * GWEI };
/** Tatum's CELO signer adds this to the estimate. */
const CELO_GAS_MARGIN = 100_000n;

interface TatumFillOptions {
  baseUrl: string;
  apiKey: string;
  http?: HttpClient;
  timeoutMs?: number;
}

/** The Tatum API as Tatum KMS's SDKs use it to fill (§2.10), for chains with a web3 proxy there. */
export function tatumFillSource(chain: string, options: TatumFillOptions): EvmFillSource | undefined {
  const web3Path = TATUM_WEB3_PATHS[chain as TatumChain];
  if (web3Path === undefined) return undefined;
  const base = options.baseUrl.replace(/\/+$/, '');
  const http = options.http ?? new HttpClient({ timeoutMs: options.timeoutMs ?? 30_000 });
  const rpc = new EvmRpc({
    url: `${base}${web3Path}${encodeURIComponent(options.apiKey)}`,
    http,
    secretInUrl: options.apiKey,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const getJson = async (path: string): Promise<unknown> =>
    (await http.requestJson({ method: 'GET', url: base + path, headers: { [HEADER_API_KEY]: options.apiKey } })).json;
  const countPath = TATUM_TX_COUNT_PATHS[chain as TatumChain];
  const fixed = FIXED_GAS_PRICE[chain];
  return {
    label: `the Tatum API (${chain} web3 proxy)`,
    chainId: () => rpc.chainId(),
    nonce: async (address) => {
      if (countPath === undefined) return rpc.getTransactionCount(address, 'pending');
      return wholeNumber(await getJson(countPath + encodeURIComponent(address)), `GET ${countPath}{address}`);
    },
    estimateGas: async (tx) => {
      const g = await rpc.estimateGas(tx);
      return chain === 'CELO' ? g + CELO_GAS_MARGIN : g;
    },
    gasPrice: async () => {
      if (fixed !== undefined) return fixed;
      if (chain === 'ETH') {
        const fee = check(feeEstimate, await getJson(TATUM_ETH_FEE_PATH));
        return wholeNumber(fee.ok ? fee.value.medium : undefined, `GET ${TATUM_ETH_FEE_PATH} .medium`);
      }
      return rpc.gasPrice();
    },
    maxPriorityFeePerGas: () => rpc.maxPriorityFeePerGas(),
    latestBaseFee: () => rpc.latestBaseFee(),
    isMined: async (h) => (await rpc.getTransactionReceipt(h)) !== null,
  };
}

/** GET /v3/blockchain/fee/ETH: {slow, medium, fast}; `medium` is what Tatum KMS's SDK uses (wholeNumber judges it). */
const feeEstimate = v.looseObject({ medium: v.unknown() });

/** A count or a wei amount as Tatum answers it: a JSON number or a decimal string (a fee may carry decimals: rounded up). */
function wholeNumber(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER * 1e6)
    return BigInt(Math.ceil(v));
  if (typeof v === 'string' && /^[0-9]{1,78}$/.test(v)) return BigInt(v);
  if (typeof v === 'string' && /^[0-9]{1,78}\.[0-9]{1,30}$/.test(v)) {
    const [i, f] = v.split('.') as [string, string];
    return BigInt(i) + (/[1-9]/.test(f) ? 1n : 0n);
  }
  throw new HardkmsError('TATUM_BAD_RESPONSE', `${what}: expected a non-negative number, got ${kindOf(v)}`, {
    hint: 'The Tatum API answered something unexpected; the transaction was not signed and is tried again next cycle.',
  });
}

export class NodeEvmFiller implements EvmFiller {
  private readonly checked = new Map<string, Promise<void>>();

  /**
   * @param nodes the operator's own nodes (`HARDKMS_RPC_<CHAIN>`); they win over Tatum.
   * @param tatum fill sources through the Tatum API per chain, used where no own node is set.
   */
  constructor(
    private readonly chainIds: (chain: string) => bigint,
    private readonly nodes: ReadonlyMap<string, EvmRpc>,
    private readonly tatum: (chain: string) => EvmFillSource | undefined = () => undefined,
  ) {}

  chainId(chain: string): bigint {
    return this.chainIds(chain);
  }

  private source(chain: string): EvmFillSource | undefined {
    const rpc = this.nodes.get(chain);
    return rpc !== undefined ? nodeFillSource(chain, rpc) : this.tatum(chain);
  }

  async isMined(chain: string, txHash: string): Promise<boolean | undefined> {
    const src = this.source(chain);
    if (src === undefined) return undefined;
    await this.checkSource(chain, this.chainIds(chain), src);
    return src.isMined(txHash);
  }

  async fill(chain: string, payload: string, from: string, context: EvmFillContext = {}): Promise<EvmFill> {
    const chainId = this.chainIds(chain);
    const f = parseEvmPayload(payload, { chain, chainId });
    const missing = missingEvmFields(f);
    if (f.feeCurrency !== undefined && missing.some((m) => m !== 'nonce' && m !== 'gas')) {
      // The node's gas price is in CELO; the fee of a CIP-64 transaction is in the fee currency.
      throw new HardkmsError(
        'TX_PAYLOAD_INCOMPLETE',
        `${chain} payload with feeCurrency: missing ${missing.join(', ')}; its fee, in the fee currency, must be in the payload`,
        {
          hint: 'Give gasPrice (or maxFeePerGas and maxPriorityFeePerGas) in units of the fee currency; hardkms does not convert a CELO gas price.',
        },
      );
    }
    const reestimate = chain === 'ETH' && context.withdrawal === true;
    if (missing.length === 0 && !reestimate) return {};
    const src = this.source(chain);
    if (src === undefined) {
      throw new HardkmsError(
        'TX_PAYLOAD_INCOMPLETE',
        `${chain} payload: missing ${missing.join(', ') || 'nothing but the withdrawal gas estimate'}, HARDKMS_RPC_${chain} is not set and the Tatum API has no ${chain} endpoint to fill from`,
        { hint: `Set HARDKMS_RPC_${chain} to a node of your own, or have the payload carry every field.` },
      );
    }
    await this.checkSource(chain, chainId, src);
    const fill: EvmFill = {};
    if (f.nonce === undefined) fill.nonce = await src.nonce(from);
    if (f.gasLimit === undefined || reestimate) {
      const gas = await src.estimateGas({
        from,
        ...(f.to === null ? {} : { to: f.to }),
        value: f.value,
        ...(f.data === '0x' ? {} : { data: f.data }),
      });
      if (f.gasLimit === undefined) fill.gasLimit = gas;
      else fill.gasLimitOverride = gas;
    }
    if (f.type === 0 && f.gasPrice === undefined) fill.gasPrice = await src.gasPrice();
    if (f.type === 2) {
      const prio = f.maxPriorityFeePerGas ?? (await src.maxPriorityFeePerGas());
      if (f.maxPriorityFeePerGas === undefined) fill.maxPriorityFeePerGas = prio;
      if (f.maxFeePerGas === undefined) {
        const base = await src.latestBaseFee();
        if (base === undefined)
          throw new HardkmsError(
            'TX_PAYLOAD_INCOMPLETE',
            `${chain}: ${src.label} reports no base fee (pre-London); cannot fill maxFeePerGas`,
          );
        fill.maxFeePerGas = base * 2n + prio;
      }
    }
    return fill;
  }

  private checkSource(chain: string, pinned: bigint, src: EvmFillSource): Promise<void> {
    const key = `${chain}\u0000${src.label}`;
    let p = this.checked.get(key);
    if (p === undefined) {
      p = src.chainId().then((id) => {
        if (id !== pinned) {
          throw new HardkmsError(
            'DAEMON_NODE_WRONG_CHAIN',
            `${src.label} answers chain id ${id}, but ${chain} is pinned to ${pinned}; nothing was filled or signed`,
            {
              hint: `Point HARDKMS_RPC_${chain} at a node of the right network, or set HARDKMS_CHAIN_ID_${chain} if the pin is what is wrong.`,
            },
          );
        }
      });
      // Not cached on failure: a source that was down is asked again next time.
      p.catch(() => this.checked.delete(key));
      this.checked.set(key, p);
    }
    return p;
  }
}
