/**
 * FAKE of a VeChain node's REST API (what sync-testnet.vechain.org serves; Tatum KMS's
 * thorify asks it, not Tatum): GET /blocks/best and POST /accounts/* (clause simulation).
 * A test fake because no VeChain node runs here; answers follow the public API's shapes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class FakeVetNode {
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  /** gasUsed the simulation answers; `reverted` makes it answer a revert. */
  gasUsed = 0;
  reverted = false;
  bestId = '0x00ab12cd' + 'ef'.repeat(28);

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeVetNode> {
    const holder: { node?: FakeVetNode } = {};
    const server = http.createServer((req, res) => {
      const node = holder.node;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const json = body === '' ? undefined : (JSON.parse(body) as unknown);
        node!.requests.push({ method: req.method ?? '', path: req.url ?? '', body: json });
        const send = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(v));
        };
        if (req.method === 'GET' && req.url === '/blocks/best')
          return send(200, { id: node!.bestId, number: 0x00ab12cd });
        if (req.method === 'POST' && req.url === '/accounts/*') {
          const clauses = (json as { clauses?: unknown[] } | undefined)?.clauses ?? [];
          return send(
            200,
            clauses.map(() => ({
              data: '0x',
              events: [],
              transfers: [],
              gasUsed: node!.gasUsed,
              reverted: node!.reverted,
              vmError: node!.reverted ? 'execution reverted' : '',
            })),
          );
        }
        send(404, { error: 'no route' });
      });
    });
    const node = new FakeVetNode(server);
    holder.node = node;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
