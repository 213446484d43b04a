/**
 * The MultiversX gateway's answers (src/signer/sinks/egld-node.ts) are read through schemas:
 * what is used is checked, anything else is DAEMON_NODE_FAILED naming what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgldGateway } from '../../../src/signer/sinks/egld-node.js';
import { startAnswerServer } from '../../support/answer-server.js';
import { rejectionOf } from '../../support/rejection.js';

let server: Awaited<ReturnType<typeof startAnswerServer>>;
let gateway: EgldGateway;
const answers: Record<string, unknown> = {};

beforeAll(async () => {
  server = await startAnswerServer(answers, {});
  gateway = new EgldGateway(server.url);
});
afterAll(async () => {
  gateway.close();
  await server.close();
});

const failure = (p: Promise<unknown>) => rejectionOf(p);

describe('EgldGateway', () => {
  it('reads the network config, a nonce and a gas cost as the gateway writes them (numbers or decimal strings)', async () => {
    answers['/network/config'] = {
      data: { config: { erd_min_gas_price: 1000000000, erd_chain_id: 'D', erd_min_transaction_version: '1' } },
      code: 'successful',
    };
    answers['/address/erd1x/nonce'] = { data: { nonce: '7' } };
    answers['/transaction/cost'] = { data: { txGasUnits: 50000 } };
    expect(await gateway.config()).toEqual({ minGasPrice: 1000000000n, chainID: 'D', minTransactionVersion: 1 });
    expect(await gateway.nonce('erd1x')).toBe(7n);
    expect(await gateway.cost({})).toBe(50000n);
  });

  it('an answer without what is used is DAEMON_NODE_FAILED naming it', async () => {
    for (const body of [
      {},
      { data: null },
      { data: { config: { erd_min_gas_price: -1, erd_chain_id: 'D', erd_min_transaction_version: 1 } } },
      { data: { config: { erd_min_gas_price: 1, erd_chain_id: 5, erd_min_transaction_version: 1 } } },
      [{ data: {} }],
    ]) {
      answers['/network/config'] = body;
      expect(await failure(gateway.config())).toMatchObject({
        code: 'DAEMON_NODE_FAILED',
        message: expect.stringMatching(/answered \/network\/config without erd_min_gas_price/),
      });
    }
    answers['/address/erd1x/nonce'] = { data: { nonce: '07' } };
    expect((await failure(gateway.nonce('erd1x')))?.message).toMatch(/without a nonce/);
    answers['/transaction/cost'] = { data: { txGasUnits: 0, returnMessage: 'insufficient funds' } };
    expect((await failure(gateway.cost({})))?.message).toMatch(/could not estimate the gas \(insufficient funds\)/);
    answers['/transaction/cost'] = { data: { returnMessage: 5 } };
    expect((await failure(gateway.cost({})))?.message).toMatch(/could not estimate the gas \(no txGasUnits\)/);
  });
});
