/**
 * Tatum's Cardano Rosetta endpoints (spec §2.10): POST
 * {TATUM_API_URL}/v3/blockchain/node/{cardano-mainnet|cardano-preprod}/{apiKey}/construction/…
 * (the key in the path, as Tatum's SDK calls them: never logged), or the operator's own
 * Rosetta server (HARDKMS_RPC_ADA, its base URL without /construction). A Rosetta error is
 * HTTP 500 with {code, message, retriable}: the HttpError carries that body into the error
 * batch, as Tatum KMS reports an HTTP error.
 */
import type { AdaRosetta, AdaRosettaEndpoint } from '../../chains/ada/sign.js';
import { isPlainObject, kindOf, payloadError } from '../../chains/decoded.js';
import { HttpClient } from '../http.js';

const TATUM_ADA_NODE_PATH = '/v3/blockchain/node/';

function tatumAdaNetwork(testnet: boolean): 'cardano-preprod' | 'cardano-mainnet' {
  return testnet ? 'cardano-preprod' : 'cardano-mainnet';
}

export class RosettaClient implements AdaRosetta {
  private readonly base: string;
  private readonly http = new HttpClient({ timeoutMs: 30_000, maxResponseBytes: 4 * 1024 * 1024 });

  constructor(
    url: string,
    private readonly secretInUrl?: string,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  /** Tatum's Rosetta for an API base URL, key and net. */
  static tatum(baseUrl: string, apiKey: string, testnet: boolean): RosettaClient {
    return new RosettaClient(
      `${baseUrl.replace(/\/+$/, '')}${TATUM_ADA_NODE_PATH}${tatumAdaNetwork(testnet)}/${encodeURIComponent(apiKey)}`,
      apiKey,
    );
  }

  async post(endpoint: AdaRosettaEndpoint, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await this.http.requestJson({
      method: 'POST',
      url: `${this.base}/${endpoint}`,
      json: body,
      ...(this.secretInUrl ? { secretInUrl: this.secretInUrl } : {}),
    });
    const json = r.json;
    if (!isPlainObject(json)) {
      throw payloadError(
        'ADA',
        `Rosetta ${endpoint} did not answer a JSON object (got ${kindOf(json)})`,
        "Check the Rosetta node (HARDKMS_RPC_ADA or Tatum's); nothing was signed.",
      );
    }
    // Each field is checked where the answer is used (chains/ada/sign.ts checkAdaPayloads / checkAdaSigned).
    return json;
  }

  close(): void {
    this.http.close();
  }
}
