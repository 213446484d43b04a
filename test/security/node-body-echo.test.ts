/**
 * An operator's node (HARDKMS_RPC_<CHAIN>) or a proxy in front of it can answer a page that
 * repeats the request: its Authorization header (the node credentials from the URL's
 * userinfo), or any text. That body must not reach the daemon's log or Tatum's error batch
 * (`reportText`, §2.6, is what both carry): the error names the status and the kind and
 * size of the body, never its text, and keeps no V8 SyntaxError (its message quotes the
 * start of the body) as its cause. Real HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/signer/http.js';
import { reportText } from '../../src/signer/observe/error-report.js';
import { JsonRpcClient, UtxoRpc } from '../../src/signer/sinks/node-rpc.js';
import { RosettaClient } from '../../src/signer/sinks/ada-rosetta.js';
import { rejectionOf } from '../support/rejection.js';

const MARK = 'MARK-node-body-5c1d';
const PASSWORD = 'n0de-pa55word';
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // What the page repeats: the credentials the client sent, and the planted text.
      const echo = `${req.headers.authorization ?? ''} ${MARK}`;
      const [status, type, body] = ((): [number, string, string] => {
        switch (/^\/[^/]*/.exec(req.url ?? '')?.[0]) {
          case '/page-502':
            return [502, 'text/html', `<html>${echo}</html>`];
          case '/page-200':
            return [200, 'text/html', `<html>${echo}</html>`];
          case '/error-without-message':
            return [
              200,
              'application/json',
              JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -1, data: echo } }),
            ];
          case '/error-array':
            return [200, 'application/json', JSON.stringify({ jsonrpc: '2.0', id: 1, error: [echo] })];
          case '/json-500':
            return [
              500,
              'application/json',
              JSON.stringify({ message: 'node down', request: { authorization: echo } }),
            ];
          case '/raw-tx-array':
            return [200, 'application/json', JSON.stringify({ result: [echo], error: null, id: 1 })];
          default:
            return [404, 'text/plain', echo];
        }
      })();
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

/** Everything of the error that a log line, the error batch or the CLI could show. */
function shown(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  return [e.message, reportText(e), cause instanceof Error ? cause.message : String(cause ?? '')].join('\n');
}

describe("a node's answer body is not repeated into errors", () => {
  it.each<[string, string, RegExp]>([
    ['/page-502', 'HTTP_STATUS', /answered HTTP 502 \(a text\/html body of \d+ bytes\)/],
    ['/page-200', 'HTTP_BAD_JSON', /answered a body that is not JSON \(HTTP 200, a text\/html body of \d+ bytes/],
    ['/error-without-message', 'RPC_ERROR', /failed: the node's error has no message \(code -1\)/],
    ['/error-array', 'RPC_ERROR', /failed: the node's error is an array of 1 entries/],
  ])('JSON-RPC %s', async (path, code, names) => {
    const rpc = new JsonRpcClient({ url: `http://node-user:${PASSWORD}@${base}${path}` });
    try {
      const e = await rejectionOf(rpc.call('eth_chainId'));
      for (const planted of [MARK, PASSWORD, Buffer.from(`node-user:${PASSWORD}`).toString('base64')])
        expect(shown(e)).not.toContain(planted);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(names);
    } finally {
      rpc.close();
    }
  });

  it("a JSON error body (a server's structured reason, reported as Tatum KMS does) is kept, this request's credentials cut out", async () => {
    const client = new HttpClient({ timeoutMs: 5000 });
    try {
      const e = await rejectionOf(
        client.requestJson({ method: 'GET', url: `http://node-user:${PASSWORD}@${base}/json-500` }),
      );
      expect(e.code).toBe('HTTP_STATUS');
      expect(reportText(e)).toContain('node down');
      expect(reportText(e)).toContain('<redacted>');
      for (const planted of [PASSWORD, Buffer.from(`node-user:${PASSWORD}`).toString('base64')])
        expect(shown(e)).not.toContain(planted);
    } finally {
      client.close();
    }
  });

  it('getrawtransaction answering something other than an object: RPC_BAD_RESPONSE by kind', async () => {
    const rpc = new UtxoRpc({ url: `http://${base}/raw-tx-array` });
    try {
      const e = await rejectionOf(rpc.getRawTransaction('ab'.repeat(32)), MARK);
      expect(e).toMatchObject({ code: 'RPC_BAD_RESPONSE' });
      expect(e.message).toMatch(/getrawtransaction: unexpected result \(.*an array of 1 entries\)/);
    } finally {
      rpc.close();
    }
  });

  it('a Rosetta server answering a page with status 200: HTTP_BAD_JSON by kind', async () => {
    const rosetta = new RosettaClient(`http://${base}/page-200`);
    try {
      const e = await rejectionOf(rosetta.post('construction/preprocess', {}));
      expect(shown(e)).not.toContain(MARK);
      expect(e.code).toBe('HTTP_BAD_JSON');
    } finally {
      rosetta.close();
    }
  });
});
