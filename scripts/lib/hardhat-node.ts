/**
 * A throw-away Hardhat node (a real EVM, npm `hardhat@2`) for end-to-end tests of the
 * EVM family, plus a tiny ERC-20 to deploy on it.
 *
 * The node runs from a temp project dir holding only a config file (no sources, so
 * nothing is compiled and no compiler is downloaded), with XDG dirs in that temp dir
 * (Hardhat keeps its vars/analytics files there) and telemetry prompts off. It does not
 * fork and binds 127.0.0.1 only, so it makes no network connections.
 * We start Hardhat's CLI with `node` directly rather than `npx`, which could fall back to
 * downloading a package, and so that the pid we kill is the node's own.
 *
 *   const node = await startHardhatNode();
 *   const token = await deployTestToken(node, node.accounts[0], 10n ** 24n);
 *   ... await node.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Contract, HDNodeWallet, Interface, JsonRpcProvider, Mnemonic, Wallet } from 'ethers';
import { HttpClient } from '../../src/signer/http.js';
import { EvmRpc } from '../../src/signer/sinks/node-rpc.js';
import { freePort } from './ports.js';

/** Hardhat's well-known default mnemonic: its accounts are public test keys. */
export const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';
export const HARDHAT_CHAIN_ID = 31337;

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HardhatNodeOptions {
  chainId?: number;
  /** Hardhat hardfork name, e.g. 'london' (EIP-1559) or 'berlin' (legacy only). Default: Hardhat's. */
  hardfork?: string;
  /** Number of funded accounts (10,000 ETH each). Default 10. */
  accountCount?: number;
  startTimeoutMs?: number;
}

export interface FundedAccount {
  address: string;
  /** 0x-hex private key (public test key derived from HARDHAT_MNEMONIC). */
  privateKey: string;
}

export class HardhatNode {
  readonly rpc: EvmRpc;
  readonly provider: JsonRpcProvider;
  private readonly http = new HttpClient({ timeoutMs: 30_000 });
  private stopped = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    readonly chainId: number,
    readonly accounts: FundedAccount[],
    private readonly exitHook: () => void,
  ) {
    this.rpc = new EvmRpc({ url: this.url, http: this.http });
    // staticNetwork: ethers must not poll or guess the network on its own.
    this.provider = new JsonRpcProvider(this.url, chainId, { staticNetwork: true, polling: false, cacheTimeout: -1 });
  }

  /** JSON-RPC URL, usable as HARDKMS_RPC_ETH. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** An ethers Wallet for a funded account, connected to this node. */
  signer(index = 0): Wallet {
    const a = this.accounts[index];
    if (a === undefined) throw new Error(`No funded account #${index}`);
    return new Wallet(a.privateKey, this.provider);
  }

  /** Mines one block (Hardhat automines by default; useful after disabling it). */
  async mine(blocks = 1): Promise<void> {
    for (let i = 0; i < blocks; i++) await this.rpc.rpc.call('evm_mine');
  }

  /** Sends `wei` from funded account `fromIndex` to `to`; resolves once mined. */
  async fund(to: string, wei: bigint, fromIndex = 0): Promise<string> {
    const tx = await this.signer(fromIndex).sendTransaction({ to, value: wei });
    await tx.wait();
    return tx.hash;
  }

  /** Kills the node (SIGTERM, then SIGKILL) and deletes its temp dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.provider.destroy();
    this.http.close();
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    process.off('exit', this.exitHook);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function startHardhatNode(options: HardhatNodeOptions = {}): Promise<HardhatNode> {
  const chainId = options.chainId ?? HARDHAT_CHAIN_ID;
  const accountCount = options.accountCount ?? 10;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hardkms-hardhat-'));
  // Hardhat refuses to run from a project that cannot resolve `hardhat` locally.
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await mkdir(path.join(dir, 'contracts'));
  const hardhatNetwork: Record<string, unknown> = {
    chainId,
    accounts: { mnemonic: HARDHAT_MNEMONIC, count: accountCount },
    mining: { auto: true },
  };
  if (options.hardfork !== undefined) hardhatNetwork.hardfork = options.hardfork;
  await writeFile(
    path.join(dir, 'hardhat.config.cjs'),
    `module.exports = ${JSON.stringify({ networks: { hardhat: hardhatNetwork }, paths: { sources: './contracts' } }, null, 2)};\n`,
  );

  const port = await freePort();
  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('hardhat/package.json')), 'internal', 'cli', 'bootstrap.js');
  const child = spawn(
    process.execPath,
    [cli, 'node', '--hostname', '127.0.0.1', '--port', String(port), '--config', path.join(dir, 'hardhat.config.cjs')],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
        XDG_CACHE_HOME: path.join(dir, 'xdg-cache'),
        XDG_DATA_HOME: path.join(dir, 'xdg-data'),
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        DO_NOT_TRACK: '1',
        CI: 'true',
      },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const exitHook = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', exitHook);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });

  const mnemonic = Mnemonic.fromPhrase(HARDHAT_MNEMONIC);
  const accounts: FundedAccount[] = [];
  for (let i = 0; i < accountCount; i++) {
    const w = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
    accounts.push({ address: w.address, privateKey: w.privateKey });
  }
  const node = new HardhatNode(child, dir, port, chainId, accounts, exitHook);

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null) {
      await node.stop();
      throw new Error(`hardhat node did not start (${spawnError?.message ?? `exit ${child.exitCode}`}): ${stderr}`);
    }
    try {
      const id = await node.rpc.chainId();
      if (id !== BigInt(chainId)) {
        await node.stop();
        throw new Error(`hardhat node reports chain id ${id}, expected ${chainId}`);
      }
      return node;
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('hardhat node reports')) throw e;
    }
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(`hardhat node did not answer within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------
// Test ERC-20

/**
 * Source of the test token, written for hardkms. TEST_TOKEN_BYTECODE is its creation code,
 * compiled offline with the solc-js that Hardhat depends on (node_modules/solc 0.8.26,
 * soljson.js bundled in the npm package; no download), settings TEST_TOKEN_SOLC_SETTINGS.
 * The metadata hash is disabled so the bytecode depends on the source and settings only;
 * test/integration/regtest-nodes.test.ts recompiles the source and compares.
 */
export const TEST_TOKEN_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

/// Minimal ERC-20 for hardkms end-to-end tests. The whole supply goes to the deployer.
contract TestToken {
    string public constant name = "hardkms Test Token";
    string public constant symbol = "HKT";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint256 supply) {
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "allowance");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(to != address(0), "zero address");
        uint256 balance = balanceOf[from];
        require(balance >= value, "balance");
        balanceOf[from] = balance - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
`;

export const TEST_TOKEN_SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'paris',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
} as const;

export const TEST_TOKEN_BYTECODE =
  '0x6080604052348015600f57600080fd5b50604051610632380380610632833981016040819052602c91607b565b600081815533808252600160209081526040808420859055518481529192917fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef910160405180910390a3506093565b600060208284031215608c57600080fd5b5051919050565b610590806100a26000396000f3fe608060405234801561001057600080fd5b50600436106100935760003560e01c8063313ce56711610066578063313ce5671461012c57806370a082311461014657806395d89b4114610166578063a9059cbb14610188578063dd62ed3e1461019b57600080fd5b806306fdde0314610098578063095ea7b3146100df57806318160ddd1461010257806323b872dd14610119575b600080fd5b6100c9604051806040016040528060128152602001713430b93235b6b9902a32b9ba102a37b5b2b760711b81525081565b6040516100d6919061042e565b60405180910390f35b6100f26100ed366004610498565b6101c6565b60405190151581526020016100d6565b61010b60005481565b6040519081526020016100d6565b6100f26101273660046104c2565b610233565b610134601281565b60405160ff90911681526020016100d6565b61010b6101543660046104ff565b60016020526000908152604090205481565b6100c9604051806040016040528060038152602001621212d560ea1b81525081565b6100f2610196366004610498565b6102e6565b61010b6101a9366004610521565b600260209081526000928352604080842090915290825290205481565b3360008181526002602090815260408083206001600160a01b038716808552925280832085905551919290917f8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925906102219086815260200190565b60405180910390a35060015b92915050565b6001600160a01b0383166000908152600260209081526040808320338452909152812054828110156102985760405162461bcd60e51b8152602060048201526009602482015268616c6c6f77616e636560b81b60448201526064015b60405180910390fd5b60001981146102d0576102ab838261056a565b6001600160a01b03861660009081526002602090815260408083203384529091529020555b6102db8585856102fc565b506001949350505050565b60006102f33384846102fc565b50600192915050565b6001600160a01b0382166103415760405162461bcd60e51b815260206004820152600c60248201526b7a65726f206164647265737360a01b604482015260640161028f565b6001600160a01b038316600090815260016020526040902054818110156103945760405162461bcd60e51b815260206004820152600760248201526662616c616e636560c81b604482015260640161028f565b61039e828261056a565b6001600160a01b0380861660009081526001602052604080822093909355908516815290812080548492906103d490849061057d565b92505081905550826001600160a01b0316846001600160a01b03167fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef8460405161042091815260200190565b60405180910390a350505050565b602081526000825180602084015260005b8181101561045c576020818601810151604086840101520161043f565b506000604082850101526040601f19601f83011684010191505092915050565b80356001600160a01b038116811461049357600080fd5b919050565b600080604083850312156104ab57600080fd5b6104b48361047c565b946020939093013593505050565b6000806000606084860312156104d757600080fd5b6104e08461047c565b92506104ee6020850161047c565b929592945050506040919091013590565b60006020828403121561051157600080fd5b61051a8261047c565b9392505050565b6000806040838503121561053457600080fd5b61053d8361047c565b915061054b6020840161047c565b90509250929050565b634e487b7160e01b600052601160045260246000fd5b8181038181111561022d5761022d610554565b8082018082111561022d5761022d61055456';

export const TEST_TOKEN_ABI = [
  'constructor(uint256 supply)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
] as const;

export const TEST_TOKEN_INTERFACE = new Interface(TEST_TOKEN_ABI);

/** `transfer(to, value)` call data, as a Tatum ERC-20 payload's `data` field carries it. */
export function erc20TransferData(to: string, value: bigint): string {
  return TEST_TOKEN_INTERFACE.encodeFunctionData('transfer', [to, value]);
}

/** Deploys the test token from a funded account; the whole supply goes to that account. */
export async function deployTestToken(node: HardhatNode, fromIndex = 0, supply = 10n ** 24n): Promise<Contract> {
  const signer = node.signer(fromIndex);
  const data = TEST_TOKEN_BYTECODE + TEST_TOKEN_INTERFACE.encodeDeploy([supply]).slice(2);
  const tx = await signer.sendTransaction({ data });
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1 || receipt.contractAddress === null) {
    throw new Error('test token deployment failed');
  }
  return new Contract(receipt.contractAddress, TEST_TOKEN_ABI, node.provider);
}

/** Token balance via eth_call (independent of ethers' Contract plumbing). */
export async function tokenBalance(node: HardhatNode, token: string, owner: string): Promise<bigint> {
  const data = TEST_TOKEN_INTERFACE.encodeFunctionData('balanceOf', [owner]);
  const out = await node.rpc.call({ to: token, data });
  return BigInt(TEST_TOKEN_INTERFACE.decodeFunctionResult('balanceOf', out)[0] as bigint);
}
