/**
 * The MultiversX gateway the daemon asks what Tatum KMS's SDK asks (spec §2.10): the network
 * config (minimum gas price, chain id, transaction version), the sender's nonce and the
 * transaction's gas cost. Tatum's endpoint is {TATUM_API_URL}/v3/egld/node/{apiKey} (the key
 * in the path: never logged); HARDKMS_RPC_EGLD points hardkms at another gateway.
 */
import { egldConfigError } from '../../chains/egld/sign.js';
import { HttpClient } from '../http.js';

export const TATUM_EGLD_NODE_PATH = '/v3/egld/node/';

interface EgldNetworkConfig {
  minGasPrice: bigint;
  chainID: string;
  minTransactionVersion: number;
}

export interface EgldNode {
  config(): Promise<EgldNetworkConfig>;
  nonce(address: string): Promise<bigint>;
  /** Gas units the gateway estimates for the unsigned transaction (Tatum's gasLimit). */
  cost(tx: Record<string, unknown>): Promise<bigint>;
  close(): void;
}

function uint(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0|[1-9][0-9]{0,30})$/.test(v)) return BigInt(v);
  return undefined;
}

export class EgldGateway implements EgldNode {
  private readonly base: string;
  private readonly http = new HttpClient({ timeoutMs: 30_000 });

  constructor(
    url: string,
    private readonly secretInUrl?: string,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  /** Tatum's EGLD node for an API base URL and key. */
  static tatum(baseUrl: string, apiKey: string): EgldGateway {
    return new EgldGateway(
      `${baseUrl.replace(/\/+$/, '')}${TATUM_EGLD_NODE_PATH}${encodeURIComponent(apiKey)}`,
      apiKey,
    );
  }

  private async get(path: string): Promise<Record<string, unknown>> {
    const r = await this.http.requestJson({
      method: 'GET',
      url: `${this.base}${path}`,
      ...(this.secretInUrl ? { secretInUrl: this.secretInUrl } : {}),
    });
    return ((r.json as { data?: unknown } | null)?.data ?? {}) as Record<string, unknown>;
  }

  async config(): Promise<EgldNetworkConfig> {
    const c = ((await this.get('/network/config')).config ?? {}) as Record<string, unknown>;
    const minGasPrice = uint(c.erd_min_gas_price);
    const version = uint(c.erd_min_transaction_version);
    if (minGasPrice === undefined || typeof c.erd_chain_id !== 'string' || version === undefined) {
      throw egldConfigError(
        'answered /network/config without erd_min_gas_price, erd_chain_id and erd_min_transaction_version',
      );
    }
    return { minGasPrice, chainID: c.erd_chain_id, minTransactionVersion: Number(version) };
  }

  async nonce(address: string): Promise<bigint> {
    const n = uint((await this.get(`/address/${encodeURIComponent(address)}/nonce`)).nonce);
    if (n === undefined) throw egldConfigError(`answered /address/…/nonce without a nonce`);
    return n;
  }

  async cost(tx: Record<string, unknown>): Promise<bigint> {
    const r = await this.http.requestJson({
      method: 'POST',
      url: `${this.base}/transaction/cost`,
      json: tx,
      ...(this.secretInUrl ? { secretInUrl: this.secretInUrl } : {}),
    });
    const data = ((r.json as { data?: unknown } | null)?.data ?? {}) as {
      txGasUnits?: unknown;
      returnMessage?: unknown;
    };
    const gas = uint(data.txGasUnits);
    if (gas === undefined || gas === 0n) {
      throw egldConfigError(
        `could not estimate the gas (${typeof data.returnMessage === 'string' ? data.returnMessage.slice(0, 120) : 'no txGasUnits'})`,
      );
    }
    return gas;
  }

  close(): void {
    this.http.close();
  }
}
