import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that answers every request with the JSON `answers` holds for its path
 * (read at request time, so a test changes them between calls), or `missing` when that is
 * null or absent. For unit tests of one node client's readers (sinks/*-node.ts), real HTTP.
 */
export async function startAnswerServer(
  answers: Record<string, unknown>,
  missing: unknown,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answers[path] ?? missing));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
