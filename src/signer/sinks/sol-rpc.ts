/**
 * The Solana JSON-RPC the daemon asks what Tatum KMS's web3.js asks (spec §2.10,
 * chains §2.3): a fresh blockhash, the mint and owner of SPL token accounts (for the
 * policy), and sendTransaction, since for SOL the signer submits the transaction itself
 * and then posts only its signature to Tatum. Tatum's endpoint is
 * {TATUM_API_URL}/v3/blockchain/node/SOL/{apiKey} (the key in the path: never logged);
 * HARDKMS_RPC_SOL points hardkms at the operator's own node instead.
 */
import { HardkmsError } from '../../errors.js';
import type { SolTokenAccount } from '../../chains/sol/sign.js';
import { JsonRpcClient, isRpcError, type JsonRpcClientOptions } from './node-rpc.js';
import { check, v } from '../../validate.js';

/** The Solana module on first use: a daemon constructs its SolanaRpc whether or not SOL ever comes. */
const solModule = () => import('../../chains/sol/sign.js');

export const TATUM_SOL_RPC_PATH = '/v3/blockchain/node/SOL/';

const BASE58_32 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

const base58Key = v.pipe(v.string(), v.regex(BASE58_32));

/** getLatestBlockhash: `{context, value: {blockhash, lastValidBlockHeight}}`. */
const blockhashAnswer = v.looseObject({ value: v.looseObject({ blockhash: base58Key }) });

/**
 * getAccountInfo (jsonParsed): `value` null for an account that does not exist; an SPL token
 * account is owned by the token program and parsed as type 'account' with its mint and owner.
 * Anything else is not a token account (undefined); a token account without them is an error.
 */
const accountAnswer = v.looseObject({
  value: v.nullish(v.looseObject({ owner: v.optional(v.unknown()), data: v.optional(v.unknown()) })),
});
const parsedTokenAccount = v.looseObject({
  parsed: v.looseObject({ type: v.literal('account'), info: v.optional(v.unknown()) }),
});
const tokenAccountInfo = v.looseObject({ mint: base58Key, owner: base58Key });

function bad(target: string, what: string): HardkmsError {
  return new HardkmsError('DAEMON_NODE_FAILED', `The Solana RPC ${target} ${what}.`, {
    hint: "Check HARDKMS_RPC_SOL (a Solana JSON-RPC node of the daemon's network), or Tatum's SOL RPC status.",
  });
}

/** An RPC answer that means the node already has this very transaction: the send is done. */
function isAlreadyProcessed(e: unknown): boolean {
  return isRpcError(e) && /already been processed|AlreadyProcessed/i.test(e.rpcMessage);
}

export class SolanaRpc {
  readonly rpc: JsonRpcClient;

  constructor(options: JsonRpcClientOptions) {
    this.rpc = new JsonRpcClient(options);
  }

  /** Tatum's SOL RPC for an API base URL and key. */
  static tatum(baseUrl: string, apiKey: string): SolanaRpc {
    return new SolanaRpc({
      url: `${baseUrl.replace(/\/+$/, '')}${TATUM_SOL_RPC_PATH}${encodeURIComponent(apiKey)}`,
      secretInUrl: apiKey,
    });
  }

  get target(): string {
    return this.rpc.target;
  }

  /** getLatestBlockhash at 'finalized', as web3.js's sendTransaction asks it. */
  async latestBlockhash(): Promise<string> {
    const r = check(blockhashAnswer, await this.rpc.call('getLatestBlockhash', [{ commitment: 'finalized' }]));
    if (!r.ok) throw bad(this.target, 'answered getLatestBlockhash without a blockhash');
    return r.value.value.blockhash;
  }

  /** Mint and owner of an SPL token account (jsonParsed), or undefined when the account does not exist or is not one. */
  async tokenAccount(address: string): Promise<SolTokenAccount | undefined> {
    const r = check(
      accountAnswer,
      await this.rpc.call('getAccountInfo', [address, { encoding: 'jsonParsed', commitment: 'finalized' }]),
    );
    const { TOKEN_PROGRAM } = await solModule();
    const account = r.ok ? r.value.value : undefined;
    if (account === null || account === undefined || account.owner !== TOKEN_PROGRAM) return undefined;
    const parsed = check(parsedTokenAccount, account.data);
    if (!parsed.ok) return undefined;
    const info = check(tokenAccountInfo, parsed.value.parsed.info);
    if (!info.ok) throw bad(this.target, `answered getAccountInfo for ${address} without a mint and owner`);
    const { mint, owner } = info.value;
    return { mint, owner };
  }

  /**
   * sendTransaction (base64, preflight at 'finalized' as web3.js does); the signature. A
   * node that already processed this transaction (a re-send after a crash) counts as sent.
   */
  async sendTransaction(base64: string): Promise<string> {
    const own = (await solModule()).solTxId(base64);
    try {
      const sig = await this.rpc.call('sendTransaction', [
        base64,
        { encoding: 'base64', preflightCommitment: 'finalized' },
      ]);
      if (typeof sig !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{64,90}$/.test(sig))
        throw bad(this.target, 'answered sendTransaction without a signature');
      if (sig !== own)
        throw bad(
          this.target,
          `answered sendTransaction with signature ${sig.slice(0, 90)}, not the transaction's own ${own}`,
        );
      return sig;
    } catch (e) {
      if (isAlreadyProcessed(e)) return own;
      throw e;
    }
  }

  close(): void {
    this.rpc.close();
  }
}
