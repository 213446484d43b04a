/**
 * The MultiversX gateway the daemon asks what Tatum KMS's SDK asks (spec §2.10): the network
 * config (minimum gas price, chain id, transaction version), the sender's nonce and the
 * transaction's gas cost. Tatum's endpoint is {TATUM_API_URL}/v3/egld/node/{apiKey} (the key
 * in the path: never logged); HARDKMS_RPC_EGLD points hardkms at another gateway.
 */
import { egldConfigError } from '../../chains/egld/sign.js';
import { HttpClient } from '../http.js';
import { check, v } from '../../validate.js';

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

/** A count as the gateway writes it: a JSON number or a decimal string. */
const uint = v.pipe(
  v.union([v.pipe(v.number(), v.safeInteger(), v.minValue(0)), v.pipe(v.string(), v.regex(/^(0|[1-9][0-9]{0,30})$/))]),
  v.transform((n) => BigInt(n)),
);

/** The gateway's envelope: `{"data": {…}, "error": "", "code": "successful"}`; only `data` is read. */
const answer = <E extends v.ObjectEntries>(entries: E) => v.looseObject({ data: v.looseObject(entries) });

const networkConfig = answer({
  config: v.looseObject({
    erd_min_gas_price: uint,
    erd_chain_id: v.string(),
    erd_min_transaction_version: uint,
  }),
});
const nonceAnswer = answer({ nonce: uint });
const costAnswer = answer({ txGasUnits: uint });
const costRefusal = answer({ returnMessage: v.string() });

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

  private async get(path: string): Promise<unknown> {
    const r = await this.http.requestJson({
      method: 'GET',
      url: `${this.base}${path}`,
      ...(this.secretInUrl ? { secretInUrl: this.secretInUrl } : {}),
    });
    return r.json;
  }

  async config(): Promise<EgldNetworkConfig> {
    const r = check(networkConfig, await this.get('/network/config'));
    if (!r.ok) {
      throw egldConfigError(
        'answered /network/config without erd_min_gas_price, erd_chain_id and erd_min_transaction_version',
      );
    }
    const c = r.value.data.config;
    return {
      minGasPrice: c.erd_min_gas_price,
      chainID: c.erd_chain_id,
      minTransactionVersion: Number(c.erd_min_transaction_version),
    };
  }

  async nonce(address: string): Promise<bigint> {
    const r = check(nonceAnswer, await this.get(`/address/${encodeURIComponent(address)}/nonce`));
    if (!r.ok) throw egldConfigError(`answered /address/…/nonce without a nonce`);
    return r.value.data.nonce;
  }

  async cost(tx: Record<string, unknown>): Promise<bigint> {
    const r = await this.http.requestJson({
      method: 'POST',
      url: `${this.base}/transaction/cost`,
      json: tx,
      ...(this.secretInUrl ? { secretInUrl: this.secretInUrl } : {}),
    });
    const gas = check(costAnswer, r.json);
    if (!gas.ok || gas.value.data.txGasUnits === 0n) {
      // The gateway's own reason (a failing contract call says why): shown, cut short.
      const refusal = check(costRefusal, r.json);
      throw egldConfigError(
        `could not estimate the gas (${refusal.ok ? refusal.value.data.returnMessage.slice(0, 120) : 'no txGasUnits'})`,
      );
    }
    return gas.value.data.txGasUnits;
  }

  close(): void {
    this.http.close();
  }
}
