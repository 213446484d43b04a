/**
 * The VeChain node's answers (src/signer/sinks/vet-node.ts) are read through schemas: the
 * best block's id and one clause result; anything else is DAEMON_NODE_FAILED, a revert
 * TX_WOULD_REVERT (before, a `[null]` simulation answer was a TypeError).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThorRestNode } from '../../../src/signer/sinks/vet-node.js';
import { HttpClient } from '../../../src/signer/http.js';
import { startAnswerServer } from '../../support/answer-server.js';
import { rejectionOf } from '../../support/rejection.js';

let server: Awaited<ReturnType<typeof startAnswerServer>>;
let node: ThorRestNode;
const httpClient = new HttpClient();
const answers: Record<string, unknown> = {};

beforeAll(async () => {
  server = await startAnswerServer(answers, null);
  node = new ThorRestNode(server.url, httpClient);
});
afterAll(async () => {
  httpClient.close();
  await server.close();
});

const failure = (p: Promise<unknown>) => rejectionOf(p);
const clause = { to: '0x' + '11'.repeat(20), value: 1n, data: '0x' };
const caller = '0x' + '22'.repeat(20);

describe('ThorRestNode', () => {
  it("blockRef is the best block id's first 8 bytes; an answer without a 32-byte id is refused", async () => {
    answers['/blocks/best'] = { id: '0x' + 'AB'.repeat(32), number: 5 };
    expect(await node.blockRef()).toBe('0x' + 'ab'.repeat(8));
    for (const body of [{ id: '0x12' }, { id: 5 }, null, ['0x' + 'ab'.repeat(32)]]) {
      answers['/blocks/best'] = body;
      expect(await failure(node.blockRef())).toMatchObject({
        code: 'DAEMON_NODE_FAILED',
        message: expect.stringMatching(/answered \/blocks\/best without a block id/),
      });
    }
  });

  it('estimateGas reads one clause result: a revert first, then gasUsed', async () => {
    answers['/accounts/*'] = [{ gasUsed: 0, reverted: false, vmError: '' }];
    expect(await node.estimateGas(clause, caller)).toBeGreaterThan(0n);
    answers['/accounts/*'] = [{ reverted: true, vmError: 'execution reverted' }];
    expect(await failure(node.estimateGas(clause, caller))).toMatchObject({
      code: 'TX_WOULD_REVERT',
      message: expect.stringMatching(/simulation reverts \(execution reverted\)/),
    });
    for (const [body, why] of [
      [[], /something other than one clause result/],
      [[{ gasUsed: 1 }, { gasUsed: 1 }], /something other than one clause result/],
      [[null], /something other than one clause result/],
      [{ gasUsed: 1 }, /something other than one clause result/],
      [[{ gasUsed: -1 }], /without gasUsed/],
      [[{ gasUsed: '21000' }], /without gasUsed/],
    ] as const) {
      answers['/accounts/*'] = body;
      expect(await failure(node.estimateGas(clause, caller))).toMatchObject({
        code: 'DAEMON_NODE_FAILED',
        message: expect.stringMatching(why),
      });
    }
  });
});
