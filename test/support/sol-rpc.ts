/**
 * FAKE of a Solana JSON-RPC node (what Tatum's /v3/blockchain/node/SOL/{apiKey} proxies to):
 * a test fake because no Solana validator runs here. It answers the methods hardkms and
 * Tatum KMS's web3.js call, in the shapes of the Solana JSON-RPC API
 * (solana.com/docs/rpc): getLatestBlockhash, getAccountInfo (jsonParsed SPL token
 * accounts), sendTransaction (base64 or base58), getSignatureStatuses; anything else is
 * -32601 "Method not found".
 *
 * sendTransaction does what a node's preflight checks before it accepts a transaction:
 * the wire format decodes, every required signature verifies over the message (-32003
 * "Transaction signature verification failure" otherwise), the blockhash is one this node
 * handed out and has not expired (-32002 "Transaction simulation failed: Blockhash not
 * found"), and the same transaction is not processed twice (-32002 "... This transaction has
 * already been processed"). Accepted transactions are kept in `transactions`.
 *
 * Usable on its own (`start()`, an HTTP server) or mounted in FakeTatumApi (`handle()`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { Message, PublicKey } from '@solana/web3.js';
import { base58Decode, base58Encode } from '../../src/chains/keys.js';

const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';

export interface AcceptedSolTx {
  signature: string;
  wire: Buffer;
  message: Message;
}

type RpcResponse = {
  jsonrpc: '2.0';
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

export class FakeSolanaRpc {
  readonly requests: { method: string; params: unknown[] }[] = [];
  readonly transactions: AcceptedSolTx[] = [];
  /** SPL token accounts by address, as getAccountInfo jsonParsed shows them. */
  readonly tokenAccounts = new Map<string, { mint: string; owner: string; amount: bigint; decimals: number }>();
  slot = 250_000_000;
  /** The next N sendTransaction calls fail before the node looks at them (-32005, node behind). */
  failSends = 0;
  /** The next N accepted transactions get that same error as the answer (accepted, answer lost). */
  loseAnswers = 0;
  private readonly issued: string[] = [];
  private readonly expired = new Set<string>();
  private server: http.Server | undefined;

  /** The blockhash getLatestBlockhash answers now. */
  get blockhash(): string {
    return this.issued.at(-1) ?? this.nextBlockhash();
  }

  /** A new latest blockhash (the chain moved on); older ones stay valid until expire(). */
  nextBlockhash(): string {
    const h = base58Encode(randomBytes(32));
    this.issued.push(h);
    this.slot += 150;
    return h;
  }

  /** Every blockhash handed out so far is too old from now on. */
  expireAll(): void {
    for (const h of this.issued) this.expired.add(h);
    this.nextBlockhash();
  }

  static async start(): Promise<FakeSolanaRpc> {
    const rpc = new FakeSolanaRpc();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        } catch {
          body = undefined;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(rpc.handle(body)));
      });
    });
    rpc.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return rpc;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }

  /** One JSON-RPC request body → its response body. */
  handle(body: unknown): RpcResponse {
    const req = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown } | undefined;
    const id = req?.id ?? null;
    if (req?.jsonrpc !== '2.0' || typeof req.method !== 'string')
      return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request' } };
    const params = Array.isArray(req.params) ? (req.params as unknown[]) : [];
    this.requests.push({ method: req.method, params });
    const ok = (result: unknown): RpcResponse => ({ jsonrpc: '2.0', id, result });
    const err = (code: number, message: string, data?: unknown): RpcResponse => ({
      jsonrpc: '2.0',
      id,
      error: { code, message, ...(data === undefined ? {} : { data }) },
    });
    const context = { apiVersion: '2.0.18', slot: this.slot };
    switch (req.method) {
      case 'getLatestBlockhash':
        return ok({ context, value: { blockhash: this.blockhash, lastValidBlockHeight: this.slot + 150 } });
      case 'getAccountInfo': {
        const address = params[0];
        if (typeof address !== 'string') return err(-32602, 'Invalid param: expected a base58 pubkey');
        const a = this.tokenAccounts.get(address);
        if (a === undefined) return ok({ context, value: null });
        const encoding = (params[1] as { encoding?: unknown } | undefined)?.encoding;
        if (encoding !== 'jsonParsed')
          return err(-32602, 'this fake answers token accounts in jsonParsed encoding only');
        const ui = Number(a.amount) / 10 ** a.decimals;
        return ok({
          context,
          value: {
            data: {
              parsed: {
                info: {
                  isNative: false,
                  mint: a.mint,
                  owner: a.owner,
                  state: 'initialized',
                  tokenAmount: {
                    amount: a.amount.toString(),
                    decimals: a.decimals,
                    uiAmount: ui,
                    uiAmountString: String(ui),
                  },
                },
                type: 'account',
              },
              program: 'spl-token',
              space: 165,
            },
            executable: false,
            lamports: 2_039_280,
            owner: TOKEN_PROGRAM,
            rentEpoch: 18446744073709552000, // u64::MAX as a JSON number reads in JS
            space: 165,
          },
        });
      }
      case 'sendTransaction':
        return this.sendTransaction(params, ok, err);
      case 'getSignatureStatuses': {
        const sigs = Array.isArray(params[0]) ? (params[0] as unknown[]) : [];
        return ok({
          context,
          value: sigs.map((s) =>
            this.transactions.some((t) => t.signature === s)
              ? {
                  slot: this.slot,
                  confirmations: null,
                  err: null,
                  confirmationStatus: 'finalized',
                  status: { Ok: null },
                }
              : null,
          ),
        });
      }
      default:
        return err(-32601, 'Method not found');
    }
  }

  private sendTransaction(
    params: unknown[],
    ok: (r: unknown) => RpcResponse,
    err: (c: number, m: string, d?: unknown) => RpcResponse,
  ): RpcResponse {
    const behind = (): RpcResponse => err(-32005, 'Node is behind by 42 slots', { numSlotsBehind: 42 });
    if (this.failSends > 0) {
      this.failSends--;
      return behind();
    }
    const encoded = params[0];
    const encoding = (params[1] as { encoding?: unknown } | undefined)?.encoding ?? 'base58';
    if (typeof encoded !== 'string' || (encoding !== 'base64' && encoding !== 'base58'))
      return err(-32602, 'invalid transaction: unsupported encoding');
    let wire: Buffer;
    try {
      wire = encoding === 'base64' ? Buffer.from(encoded, 'base64') : Buffer.from(base58Decode(encoded));
    } catch {
      return err(-32602, `invalid transaction: failed to decode ${encoding} string`);
    }
    const n = wire[0]!;
    if (n >= 0x80) return err(-32602, 'invalid transaction: this fake reads at most 127 signatures');
    const sigs = Array.from({ length: n }, (_, i) => wire.subarray(1 + 64 * i, 1 + 64 * (i + 1)));
    const messageBytes = wire.subarray(1 + 64 * n);
    let message: Message;
    try {
      message = Message.from(messageBytes);
    } catch {
      return err(
        -32602,
        'invalid transaction: failed to deserialize solana_sdk::transaction::versioned::VersionedTransaction',
      );
    }
    if (n !== message.header.numRequiredSignatures)
      return err(-32602, 'invalid transaction: Transaction has the wrong number of signatures');
    for (let i = 0; i < n; i++) {
      const key = (message.accountKeys[i] as PublicKey).toBytes();
      if (!ed25519.verify(sigs[i]!, messageBytes, key))
        return err(-32003, 'Transaction signature verification failure');
    }
    const signature = base58Encode(sigs[0]!);
    const sim = (what: string, e: unknown): RpcResponse =>
      err(-32002, `Transaction simulation failed: ${what}`, {
        accounts: null,
        err: e,
        innerInstructions: null,
        logs: [],
        replacementBlockhash: null,
        returnData: null,
        unitsConsumed: 0,
      });
    if (!this.issued.includes(message.recentBlockhash) || this.expired.has(message.recentBlockhash))
      return sim('Blockhash not found', 'BlockhashNotFound');
    if (this.transactions.some((t) => t.signature === signature))
      return sim('This transaction has already been processed', 'AlreadyProcessed');
    this.transactions.push({ signature, wire, message });
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      return behind();
    }
    return ok(signature);
  }
}
