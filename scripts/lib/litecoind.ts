/**
 * A throw-away `litecoind -regtest` for end-to-end tests of the UTXO family.
 *
 * Each node gets its own temp datadir and a free loopback RPC port; it never listens
 * for peers and never connects out (-listen=0, -connect=0, no DNS seeds, no UPnP), so
 * tests are hermetic. Always call stop() in afterAll; the process is also killed if
 * the test process exits without it.
 *
 *   const node = await startLitecoind();
 *   const w = await node.createWallet('miner');
 *   const addr = await w.getNewAddress('bech32');
 *   await node.generateToAddress(101, addr);          // coinbase matures after 100 blocks
 *   const txid = await w.sendToAddress(target, 0.5);  // LTC
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isRpcError, UtxoRpc } from '../../src/signer/sinks/node-rpc.js';
import { HttpClient } from '../../src/signer/http.js';
import { freePort } from './ports.js';

export const LITECOIND_PATH = process.env.LITECOIND ?? '/usr/bin/litecoind';

export type AddressType = 'legacy' | 'p2sh-segwit' | 'bech32';

export interface Utxo {
  txid: string;
  vout: number;
  address?: string;
  scriptPubKey: string;
  /** LTC */
  amount: number;
  confirmations: number;
}

/** Wallet-scoped RPC (`/wallet/<name>`). */
export class LitecoinWallet {
  constructor(
    readonly name: string,
    readonly rpc: UtxoRpc,
  ) {}

  async getNewAddress(type: AddressType = 'bech32', label = ''): Promise<string> {
    return asString(await this.rpc.call('getnewaddress', [label, type]), 'getnewaddress');
  }

  /** Pays `amount` LTC to `address`; returns the txid. */
  async sendToAddress(address: string, amount: number): Promise<string> {
    return asString(await this.rpc.call('sendtoaddress', [address, amount]), 'sendtoaddress');
  }

  async listUnspent(addresses?: string[], minConf = 0): Promise<Utxo[]> {
    const r = await this.rpc.call('listunspent', addresses === undefined ? [minConf] : [minConf, 9_999_999, addresses]);
    return r as Utxo[];
  }

  async getBalance(): Promise<number> {
    return Number(await this.rpc.call('getbalance'));
  }

  /** Watch an address (legacy wallets) so listunspent sees outputs we did not create. */
  async importAddress(address: string, rescan = false): Promise<void> {
    await this.rpc.call('importaddress', [address, '', rescan]);
  }

  close(): void {
    this.rpc.close();
  }
}

export interface LitecoindOptions {
  /** Extra `-name=value` arguments. */
  extraArgs?: string[];
  /** How long to wait for RPC to come up, ms. Default 60 000. */
  startTimeoutMs?: number;
}

export class Litecoind {
  /** Node-level RPC (no wallet). */
  readonly rpc: UtxoRpc;
  private readonly http = new HttpClient({ timeoutMs: 60_000, maxSockets: 8 });
  private readonly wallets: LitecoinWallet[] = [];
  private stopped = false;

  constructor(
    private readonly child: ChildProcess,
    readonly datadir: string,
    readonly rpcPort: number,
    readonly rpcUser: string,
    private readonly rpcPassword: string,
    private readonly exitHook: () => void,
  ) {
    this.rpc = new UtxoRpc({ url: this.url, http: this.http, version: '1.0' });
  }

  /** Node RPC URL with credentials, usable as HARDKMS_RPC_LTC. */
  get url(): string {
    return `http://${this.rpcUser}:${this.rpcPassword}@127.0.0.1:${this.rpcPort}/`;
  }

  walletUrl(name: string): string {
    return `${this.url}wallet/${encodeURIComponent(name)}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async createWallet(name: string): Promise<LitecoinWallet> {
    await this.rpc.call('createwallet', [name]);
    return this.wallet(name);
  }

  wallet(name: string): LitecoinWallet {
    const w = new LitecoinWallet(name, new UtxoRpc({ url: this.walletUrl(name), http: this.http, version: '1.0' }));
    this.wallets.push(w);
    return w;
  }

  /** Mines `n` blocks paying `address`; returns the block hashes. */
  async generateToAddress(n: number, address: string): Promise<string[]> {
    return (await this.rpc.call('generatetoaddress', [n, address])) as string[];
  }

  /** Unspent output by txid:vout, or null when spent / unknown. Includes the mempool. */
  async getTxOut(
    txid: string,
    vout: number,
  ): Promise<{
    value: number;
    confirmations: number;
    scriptPubKey: { hex: string; address?: string; addresses?: string[] };
  } | null> {
    return (await this.rpc.call('gettxout', [txid, vout, true])) as never;
  }

  getRawTransaction(txid: string): Promise<Record<string, unknown>> {
    return this.rpc.getRawTransaction(txid);
  }

  sendRawTransaction(hex: string): Promise<string> {
    return this.rpc.sendRawTransaction(hex);
  }

  async getMempool(): Promise<string[]> {
    return (await this.rpc.call('getrawmempool')) as string[];
  }

  /** Stops the node (RPC `stop`, then SIGKILL if it lingers) and deletes its datadir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await this.rpc.call('stop');
    } catch {
      // Already dead or not answering: the kill below handles it.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    process.off('exit', this.exitHook);
    for (const w of this.wallets) w.close();
    this.http.close();
    await rm(this.datadir, { recursive: true, force: true });
  }
}

export async function startLitecoind(options: LitecoindOptions = {}): Promise<Litecoind> {
  const datadir = await mkdtemp(path.join(os.tmpdir(), 'hardkms-ltc-'));
  const rpcPort = await freePort();
  const rpcUser = 'hardkms';
  const rpcPassword = randomBytes(12).toString('hex');
  // Network-specific options only apply inside the [regtest] section.
  await writeFile(
    path.join(datadir, 'litecoin.conf'),
    [
      'regtest=1',
      '[regtest]',
      'server=1',
      'listen=0',
      'connect=0',
      'dnsseed=0',
      'upnp=0',
      'discover=0',
      'listenonion=0',
      'txindex=1',
      'fallbackfee=0.0002',
      'printtoconsole=0',
      'rpcbind=127.0.0.1',
      'rpcallowip=127.0.0.1',
      `rpcport=${rpcPort}`,
      `rpcuser=${rpcUser}`,
      `rpcpassword=${rpcPassword}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = [`-datadir=${datadir}`, ...(options.extraArgs ?? [])];
  const child = spawn(LITECOIND_PATH, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const exitHook = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', exitHook);
  const node = new Litecoind(child, datadir, rpcPort, rpcUser, rpcPassword, exitHook);

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null) {
      await node.stop();
      throw new Error(`litecoind did not start (${spawnError?.message ?? `exit ${child.exitCode}`}): ${stderr}`);
    }
    try {
      await node.rpc.call('getblockchaininfo');
      return node;
    } catch (e) {
      // -28 "Loading block index…" and refused connections are normal during start-up.
      if (isRpcError(e) && e.rpcCode !== -28) {
        await node.stop();
        throw e;
      }
    }
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(`litecoind RPC did not come up within ${options.startTimeoutMs ?? 60_000} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A loopback TCP port that was free a moment ago. */
function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}
