/**
 * FAKE of a MultiversX gateway (what Tatum's /v3/egld/node/{apiKey} proxies to): a test fake
 * because no MultiversX node runs here. It answers the three calls Tatum KMS's SDK makes, in
 * the gateway's shapes (`{data, error, code}`): GET /network/config, GET
 * /address/{bech32}/nonce and POST /transaction/cost (50 000 + 1 500 per data byte, the
 * protocol's move-balance cost). Mounted in FakeTatumApi (option `egld`).
 */
export class FakeEgldGateway {
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  chainID = 'D';
  minGasPrice = 1_000_000_000;
  readonly nonces = new Map<string, number>();

  handle(method: string, path: string, body: unknown): { status: number; json: unknown } {
    this.requests.push({ method, path, body });
    const ok = (data: unknown) => ({ status: 200, json: { data, error: '', code: 'successful' } });
    if (method === 'GET' && path === '/network/config') {
      return ok({
        config: {
          erd_chain_id: this.chainID,
          erd_denomination: 18,
          erd_gas_per_data_byte: 1500,
          erd_min_gas_limit: 50_000,
          erd_min_gas_price: this.minGasPrice,
          erd_min_transaction_version: 1,
        },
      });
    }
    const nonce = /^\/address\/(erd1[0-9a-z]+)\/nonce$/.exec(path);
    if (method === 'GET' && nonce !== null) return ok({ nonce: this.nonces.get(nonce[1]!) ?? 0 });
    if (method === 'POST' && path === '/transaction/cost') {
      const data = (body as { data?: unknown } | undefined)?.data;
      const bytes = typeof data === 'string' ? Buffer.from(data, 'base64').length : 0;
      return ok({ txGasUnits: 50_000 + 1_500 * bytes, returnMessage: '', smartContractResults: null });
    }
    return { status: 404, json: { data: null, error: `no route ${method} ${path}`, code: 'bad_request' } };
  }
}
