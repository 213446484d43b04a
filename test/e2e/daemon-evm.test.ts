/**
 * `hardkms daemon --runOnce` (the built CLI) against a Hardhat node through the fake Tatum
 * API: ETH and ERC-20 transfers from a mnemonic wallet and a private-key wallet, legacy and
 * EIP-1559, some with nonce/gas left for the daemon to fill from HARDKMS_RPC_ETH; all
 * mined. TRON goes to the fake API only; its signatures are verified here with noble.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { computeAddress, HDNodeWallet, hexlify, Transaction, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployTestToken,
  erc20TransferData,
  startHardhatNode,
  tokenBalance,
  type HardhatNode,
} from '../../scripts/lib/hardhat-node.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import {
  ABANDON,
  addMnemonic,
  addPrivateKey,
  auditRecords,
  compressedPub,
  explain,
  LEGAL,
  runDaemon,
  testKey,
} from './support.js';
import { tronPayload } from './tron-payload.js';

const ETHER = 10n ** 18n;
const GWEI = 10n ** 9n;

describe('daemon end to end: Hardhat (ETH, ERC-20) and TRON', () => {
  let node: HardhatNode;
  let api: FakeTatumApi;
  let tv: TestVault;
  let token: string;
  const ids: Record<string, string> = {};
  const pend: Record<string, string> = {};
  const to = [
    Wallet.createRandom().address,
    Wallet.createRandom().address,
    Wallet.createRandom().address,
    Wallet.createRandom().address,
  ];

  const keyK = testKey(0x41);
  const addrK = computeAddress(hexlify(compressedPub(keyK)));
  const addrM = HDNodeWallet.fromPhrase(ABANDON, undefined, "m/44'/1'/0'/0/0").address;
  const tronKey = testKey(0x51);
  const tronMnemonicPub = Uint8Array.from(
    Buffer.from(HDNodeWallet.fromPhrase(LEGAL, undefined, "m/44'/195'/0'/0/0").publicKey.slice(2), 'hex'),
  );

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    ids.k = addPrivateKey(tv.vault, 'ETH', true, keyK);
    ids.m = addMnemonic(tv.vault, 'ETH', true, ABANDON);
    ids.tronK = addPrivateKey(tv.vault, 'TRON', true, tronKey);
    ids.tronM = addMnemonic(tv.vault, 'TRON', true, LEGAL);
    tv.vault.seal('test setup');

    node = await startHardhatNode();
    api = await FakeTatumApi.start({ nodes: { ETH: { kind: 'evm', url: node.url } } });
    const contract = await deployTestToken(node, 0, 10n ** 24n);
    token = await contract.getAddress();
    const funder = node.signer(1);
    for (const a of [addrK, addrM]) {
      await (await funder.sendTransaction({ to: a, value: 10n * ETHER })).wait();
      await (await (contract.connect(node.signer(0)) as typeof contract).getFunction('transfer')(a, 1_000_000n)).wait();
    }
    const gasPrice = (await node.rpc.gasPrice()) * 2n;

    // Private-key wallet: legacy ETH transfer, nonce 0 given explicitly (0 is a nonce, not "missing").
    pend.legacyEth = api.queue({
      chain: 'ETH',
      hashes: [ids.k!],
      serializedTransaction: JSON.stringify({
        from: 0,
        to: to[0],
        value: (ETHER / 100n).toString(),
        gasPrice: gasPrice.toString(),
        gas: 21000,
        nonce: 0,
      }),
    });
    // Mnemonic wallet at index 0: EIP-1559 ETH transfer, nonce and gas filled by the daemon from HARDKMS_RPC_ETH.
    pend.eip1559Eth = api.queue({
      chain: 'ETH',
      hashes: [ids.m!],
      index: 0,
      serializedTransaction: JSON.stringify({
        to: to[1],
        value: '0x' + (ETHER / 50n).toString(16),
        maxFeePerGas: (50n * GWEI).toString(),
        maxPriorityFeePerGas: '0x' + GWEI.toString(16),
      }),
    });
    // Mnemonic wallet: legacy ERC-20 transfer, nonce and gas filled.
    pend.legacyErc20 = api.queue({
      chain: 'ETH',
      hashes: [ids.m!],
      index: 0,
      serializedTransaction: JSON.stringify({
        from: 0,
        to: token,
        data: erc20TransferData(to[2]!, 1234n),
        gasPrice: gasPrice.toString(),
      }),
    });
    // Private-key wallet: EIP-1559 ERC-20 transfer, everything given.
    pend.eip1559Erc20 = api.queue({
      chain: 'ETH',
      hashes: [ids.k!],
      serializedTransaction: JSON.stringify({
        to: token,
        data: erc20TransferData(to[3]!, 4321n),
        nonce: 1,
        gas: '100000',
        maxFeePerGas: (50n * GWEI).toString(),
        maxPriorityFeePerGas: GWEI.toString(),
      }),
    });
    pend.tronKey = api.queue({
      chain: 'TRON',
      hashes: [ids.tronK!],
      serializedTransaction: JSON.stringify(tronPayload(compressedPub(tronKey), 1_500_000)),
    });
    pend.tronMnemonic = api.queue({
      chain: 'TRON',
      hashes: [ids.tronM!],
      index: 0,
      serializedTransaction: JSON.stringify(tronPayload(tronMnemonicPub, 2_000_000)),
    });
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await node?.stop();
  });

  it('signs, broadcasts and gets mined: ETH and ERC-20, legacy and EIP-1559, mnemonic and private-key wallets', async () => {
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH,TRON'], {
      HARDKMS_CHAIN_ID_ETH: '31337',
      HARDKMS_RPC_ETH: node.url,
    });
    expect(r.code, explain(r)).toBe(0);
    expect(api.errorReports).toEqual([]);
    const expected: [string, string, number][] = [
      [pend.legacyEth!, addrK, 0],
      [pend.eip1559Eth!, addrM, 2],
      [pend.legacyErc20!, addrM, 0],
      [pend.eip1559Erc20!, addrK, 2],
    ];
    for (const [id, from, type] of expected) {
      const b = api.broadcasts.find((x) => x.signatureId === id);
      expect(b?.error, id).toBeUndefined();
      const tx = Transaction.from(b!.txData);
      expect(tx.from).toBe(from);
      expect(tx.type).toBe(type);
      expect(tx.chainId).toBe(31337n);
      expect((await node.rpc.getTransactionReceipt(b!.txId!))?.status, id).toBe(1);
    }
    expect(await node.rpc.getBalance(to[0]!)).toBe(ETHER / 100n);
    expect(await node.rpc.getBalance(to[1]!)).toBe(ETHER / 50n);
    expect(await tokenBalance(node, token, to[2]!)).toBe(1234n);
    expect(await tokenBalance(node, token, to[3]!)).toBe(4321n);
  });

  it('--broadcast node: sends to HARDKMS_RPC_ETH itself, then marks the pending transaction complete at Tatum', async () => {
    const id = api.queue({
      chain: 'ETH',
      hashes: [ids.k!],
      serializedTransaction: JSON.stringify({
        to: to[0],
        value: '7',
        maxFeePerGas: (50n * GWEI).toString(),
        maxPriorityFeePerGas: GWEI.toString(),
      }),
    });
    const before = api.broadcasts.length;
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH', '--broadcast', 'node'], {
      HARDKMS_CHAIN_ID_ETH: '31337',
      HARDKMS_RPC_ETH: node.url,
    });
    expect(r.code, explain(r)).toBe(0);
    expect(api.broadcasts.length).toBe(before);
    const complete = api.requests.find((q) => q.method === 'PUT' && q.path.startsWith(`/v3/kms/${id}/`));
    const txId = complete!.path.split('/').at(-1)!;
    expect((await node.rpc.getTransactionReceipt(txId))?.status).toBe(1);
    expect(api.pending(id)?.txId).toBe(txId);
  });

  it('without HARDKMS_RPC_ETH: an ETH off-chain withdrawal is filled through the Tatum API (web3 proxy, count, fee) and mined', async () => {
    const ethFee = { slow: Number(GWEI), medium: Number(3n * GWEI), fast: Number(9n * GWEI) };
    const tapi = await FakeTatumApi.start({
      nodes: { ETH: { kind: 'evm', url: node.url } },
      ethFee,
      apiKey: 'tatum-key-in-path-7f3a',
    });
    try {
      const dest = Wallet.createRandom().address;
      const nonceBefore = await node.rpc.getTransactionCount(addrM, 'latest');
      // Tatum's ETH off-chain builder: no nonce, gasPrice "0", and a gas limit Tatum re-estimates anyway.
      const wid = tapi.queue({
        chain: 'ETH',
        hashes: [ids.m!],
        index: 0,
        withdrawalId: 'eth-withdrawal-1',
        serializedTransaction: JSON.stringify({
          from: 0,
          to: dest,
          value: (ETHER / 20n).toString(),
          gasPrice: '0',
          gas: '1',
        }),
      });
      // A blockchain transfer with neither gas nor nonce (filled the same way).
      const bid = tapi.queue({
        chain: 'ETH',
        hashes: [ids.k!],
        serializedTransaction: JSON.stringify({ to: dest, value: '0x' }),
      });
      const r = await runDaemon(tv, tapi, ['--runOnce', '--testnet', '--chain', 'ETH'], {
        HARDKMS_CHAIN_ID_ETH: '31337',
      });
      expect(r.code, explain(r)).toBe(0);
      expect(tapi.errorReports).toEqual([]);
      const w = tapi.broadcasts.find((x) => x.signatureId === wid)!;
      expect(w).toMatchObject({ kind: 'offchain', withdrawalId: 'eth-withdrawal-1' });
      const wtx = Transaction.from(w.txData);
      expect(wtx.from).toBe(addrM);
      expect(wtx.nonce).toBe(Number(nonceBefore));
      expect(wtx.gasLimit).toBeGreaterThanOrEqual(21_000n); // re-estimated, not the payload's 1
      expect(wtx.gasLimit).toBeLessThan(22_000n);
      expect(wtx.gasPrice).toBe(3n * GWEI); // fee endpoint .medium
      expect((await node.rpc.getTransactionReceipt(w.txId!))?.status).toBe(1);
      const btx = Transaction.from(tapi.broadcasts.find((x) => x.signatureId === bid)!.txData);
      expect(btx.from).toBe(addrK);
      expect(btx.value).toBe(0n);
      expect(btx.gasLimit).toBeGreaterThanOrEqual(21_000n);
      expect(btx.gasLimit).toBeLessThan(22_000n);
      expect(await node.rpc.getBalance(dest)).toBe(ETHER / 20n);
      // The fill went through Tatum's endpoints, the key in the web3 path and nowhere in the log.
      expect(
        tapi.requestsTo(`/v3/ethereum/web3/${tapi.apiKey}`).map((q) => (q.json as { method: string }).method),
      ).toEqual(expect.arrayContaining(['eth_chainId', 'eth_estimateGas']));
      expect(tapi.requestsTo(`/v3/ethereum/transaction/count/${addrM}`)).toHaveLength(1);
      expect(tapi.requestsTo('/v3/blockchain/fee/ETH').length).toBeGreaterThan(0);
      expect(r.stderr).not.toContain(tapi.apiKey);
    } finally {
      await tapi.stop();
    }
  });

  it('refuses to fill from a Tatum web3 proxy whose eth_chainId is not the pinned one', async () => {
    const tapi = await FakeTatumApi.start({ nodes: { ETH: { kind: 'evm', url: node.url } }, web3ChainId: 1 });
    try {
      const id = tapi.queue({
        chain: 'ETH',
        hashes: [ids.k!],
        serializedTransaction: JSON.stringify({ to: to[0], value: '1' }),
      });
      const r = await runDaemon(tv, tapi, ['--runOnce', '--testnet', '--chain', 'ETH'], {
        HARDKMS_CHAIN_ID_ETH: '31337',
      });
      expect(r.code).not.toBe(0);
      expect(tapi.broadcasts).toEqual([]);
      expect(tapi.errorReports.find((e) => e.signatureId === id)?.error).toMatch(
        /DAEMON_NODE_WRONG_CHAIN.*chain id 1\b.*pinned to 31337/,
      );
    } finally {
      await tapi.stop();
    }
  });

  it("a top-level index derives on the transaction's chain: a TRON transaction naming the ETH mnemonic wallet signs with m/44'/195'", async () => {
    const tronOfEth = Uint8Array.from(
      Buffer.from(HDNodeWallet.fromPhrase(ABANDON, undefined, "m/44'/195'/0'/0/0").publicKey.slice(2), 'hex'),
    );
    const id = api.queue({
      chain: 'TRON',
      hashes: [ids.m!],
      index: 0,
      serializedTransaction: JSON.stringify(tronPayload(tronOfEth, 1_000_000)),
    });
    // The daemon polls TRON with TRON wallets; --runOnce --wallets names the ETH wallet for every chain (§1 step 3).
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'TRON', '--wallets', ids.m!]);
    expect(r.code, explain(r)).toBe(0);
    const signed = JSON.parse(api.broadcasts.find((x) => x.signatureId === id)!.txData) as {
      txID: string;
      signature: string[];
    };
    const sig = secp256k1.Signature.fromCompact(signed.signature[0]!.slice(0, 128)).addRecoveryBit(
      parseInt(signed.signature[0]!.slice(128), 16) - 27,
    );
    expect(Buffer.from(sig.recoverPublicKey(Buffer.from(signed.txID, 'hex')).toRawBytes(true)).toString('hex')).toBe(
      Buffer.from(tronOfEth).toString('hex'),
    );
    const unwrap = auditRecords(tv).find(
      (a) => a.event === 'unwrap' && a.subject === id && (a.details as { purpose?: string }).purpose === 'public key',
    );
    expect(unwrap?.details).toMatchObject({ keys: [{ signatureId: ids.m, index: 0, path: 'TRON' }] });
  });

  it('TRON: the signature over txID verifies and recovers to the wallet key (r‖s‖recid+27)', () => {
    for (const [id, pub] of [
      [pend.tronKey!, compressedPub(tronKey)],
      [pend.tronMnemonic!, tronMnemonicPub],
    ] as const) {
      const signed = JSON.parse(api.broadcasts.find((x) => x.signatureId === id)!.txData) as {
        txID: string;
        raw_data_hex: string;
        signature: string[];
      };
      expect(createHash('sha256').update(Buffer.from(signed.raw_data_hex, 'hex')).digest('hex')).toBe(signed.txID);
      expect(signed.signature).toHaveLength(1);
      const sigHex = signed.signature[0]!;
      expect(sigHex).toMatch(/^[0-9a-f]{130}$/);
      const v = parseInt(sigHex.slice(128), 16);
      expect([27, 28]).toContain(v);
      const sig = secp256k1.Signature.fromCompact(sigHex.slice(0, 128)).addRecoveryBit(v - 27);
      const digest = Buffer.from(signed.txID, 'hex');
      expect(secp256k1.verify(sig.toCompactRawBytes(), digest, pub, { prehash: false })).toBe(true);
      expect(Buffer.from(sig.recoverPublicKey(digest).toRawBytes(true)).toString('hex')).toBe(
        Buffer.from(pub).toString('hex'),
      );
    }
  });

  it('audits each signature with the wallets that signed it', () => {
    const audit = auditRecords(tv);
    const sign = audit.find((a) => a.event === 'sign' && a.subject === pend.legacyErc20);
    expect(sign?.details).toMatchObject({ chain: 'ETH', signatureIds: [ids.m], approvalRequired: false });
    const start = audit.find((a) => a.event === 'daemon.start');
    expect(start?.details).toMatchObject({ chains: ['ETH', 'TRON'], testnet: true, chainIds: { ETH: '31337' } });
  });
});
