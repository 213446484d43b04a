/**
 * `hardkms daemon --runOnce` (the built CLI) against litecoind -regtest through the fake
 * Tatum API: P2PKH, P2WPKH and P2SH-P2WPKH inputs, a transaction with inputs of two
 * wallets, an off-chain withdrawal; the node must accept and mine every one. BCH goes to
 * the fake API only, and its signatures are checked here with bitcoinjs + noble against
 * the 0x41 forkid digest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as ecc from '@bitcoinerlab/secp256k1';
import { secp256k1 } from '@noble/curves/secp256k1';
import { BIP32Factory } from 'bip32';
import { mnemonicToSeedSync } from 'bip39';
import { crypto as bcrypto, payments, script as bscript, Transaction, type Network } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../src/chains/registry.js';
import { LITECOIND_PATH, startLitecoind, type Litecoind, type LitecoinWallet } from '../../scripts/lib/litecoind.js';
import { bitcoreJson } from '../../scripts/lib/payloads.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import {
  ABANDON,
  addMnemonic,
  addPrivateKey,
  auditRecords,
  compressedPub,
  explain,
  journalRows,
  LEGAL,
  runDaemon,
  testKey,
} from './support.js';

const bip32 = BIP32Factory(ecc);
// litecoind -regtest: P2PKH 0x6f and P2SH 0x3a as Tatum's LTC testnet, but bech32 'rltc' (Tatum: 'tltc').
// Scripts are what the pending transactions carry; these params only name addresses for the node.
const REGTEST: Network = {
  messagePrefix: '\x19Litecoin Signed Message:\n',
  bech32: 'rltc',
  bip32: { public: 0x043587cf, private: 0x04358394 },
  pubKeyHash: 0x6f,
  scriptHash: 0x3a,
  wif: 0xef,
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const FEE = 100_000;

interface Utxo {
  txid: string;
  vout: number;
  satoshis: number;
  script: Uint8Array;
}

describe.skipIf(!existsSync(LITECOIND_PATH))('daemon end to end: litecoind -regtest and BCH', () => {
  let node: Litecoind;
  let miner: LitecoinWallet;
  let api: FakeTatumApi;
  let tv: TestVault;
  let mineTo: string;
  const ids: Record<string, string> = {};
  const pend: Record<string, string> = {};
  let bchOwners: Uint8Array[] = [];
  let bchOneKeyPub: Uint8Array;

  const keyA = testKey(0x11);
  const pubA = compressedPub(keyA);
  const ltcNode = bip32.fromSeed(mnemonicToSeedSync(ABANDON)).derivePath("m/44'/1'/0'/0");
  const pubB = (i: number) => Uint8Array.from(ltcNode.derive(i).publicKey);
  const scripts = {
    aP2pkh: payments.p2pkh({ pubkey: pubA, network: REGTEST }),
    b0P2wpkh: payments.p2wpkh({ pubkey: pubB(0), network: REGTEST }),
    b1P2sh: payments.p2sh({ redeem: payments.p2wpkh({ pubkey: pubB(1), network: REGTEST }), network: REGTEST }),
    b2P2pkh: payments.p2pkh({ pubkey: pubB(2), network: REGTEST }),
  };

  async function fund(pay: Record<string, number>): Promise<Record<string, Utxo>> {
    const txid = (await miner.rpc.call('sendmany', ['', pay])) as string;
    const tx = (await node.getRawTransaction(txid)) as {
      vout: { n: number; value: number; scriptPubKey: { hex: string } }[];
    };
    const out: Record<string, Utxo> = {};
    for (const [addr, amount] of Object.entries(pay)) {
      const script = Object.values(scripts).find((p) => p.address === addr)!.output!;
      const v = tx.vout.find(
        (o) => o.scriptPubKey.hex === hex(script) && Math.round(o.value * 1e8) === Math.round(amount * 1e8),
      )!;
      out[addr] = { txid, vout: v.n, satoshis: Math.round(amount * 1e8), script };
    }
    return out;
  }

  async function destination(): Promise<Uint8Array> {
    const addr = await miner.getNewAddress('bech32');
    const info = (await miner.rpc.call('getaddressinfo', [addr])) as { scriptPubKey: string };
    return Buffer.from(info.scriptPubKey, 'hex');
  }

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    ids.a = addPrivateKey(tv.vault, 'LTC', true, keyA);
    ids.b = addMnemonic(tv.vault, 'LTC', true, ABANDON);
    ids.bchKey = addPrivateKey(tv.vault, 'BCH', true, testKey(0x21));
    ids.bchMnemonic = addMnemonic(tv.vault, 'BCH', true, LEGAL);
    tv.vault.seal('test setup');

    node = await startLitecoind();
    api = await FakeTatumApi.start({ nodes: { LTC: { kind: 'utxo', url: node.url } } });
    miner = await node.createWallet('miner');
    mineTo = await miner.getNewAddress('bech32');
    await node.generateToAddress(101, mineTo);

    const first = await fund({
      [scripts.aP2pkh.address!]: 1,
      [scripts.b0P2wpkh.address!]: 1.5,
      [scripts.b1P2sh.address!]: 2,
      [scripts.b2P2pkh.address!]: 3,
    });
    const second = await fund({ [scripts.aP2pkh.address!]: 0.7, [scripts.b0P2wpkh.address!]: 0.8 });
    await node.generateToAddress(1, mineTo);
    const u = (m: Record<string, Utxo>, p: { address?: string | undefined }) => m[p.address!]!;

    // 1. P2PKH of a private-key wallet.
    pend.p2pkh = api.queue({
      chain: 'LTC',
      hashes: [ids.a!],
      serializedTransaction: bitcoreJson(
        [u(first, scripts.aP2pkh)],
        [{ script: await destination(), satoshis: 1e8 - FEE }],
      ),
    });
    // 2. P2WPKH and P2SH-P2WPKH of a mnemonic wallet (indexes 0 and 1), with change back to index 0.
    pend.segwit = api.queue({
      chain: 'LTC',
      hashes: [ids.b!],
      signatures: [
        { id: ids.b!, index: 0 },
        { id: ids.b!, index: 1 },
      ],
      serializedTransaction: bitcoreJson(
        [u(first, scripts.b0P2wpkh), u(first, scripts.b1P2sh)],
        [
          { script: await destination(), satoshis: 3e8 },
          { script: scripts.b0P2wpkh.output!, satoshis: 0.5e8 - FEE },
        ],
      ),
    });
    // 3. Inputs owned by two wallets.
    pend.twoWallets = api.queue({
      chain: 'LTC',
      hashes: [ids.a!],
      signatures: [{ id: ids.b!, index: 0 }],
      serializedTransaction: bitcoreJson(
        [u(second, scripts.aP2pkh), u(second, scripts.b0P2wpkh)],
        [{ script: await destination(), satoshis: 1.5e8 - FEE }],
      ),
    });
    // 4. Off-chain withdrawal from the mnemonic wallet's address 2, exactly as Tatum's own
    //    builder shapes it (§2.3): scriptPubKey null everywhere, and the pool remainder
    //    {address: null, vIn: "-1", vInIndex: null} paid back to the wallet's index-0 address.
    const w = u(first, scripts.b2P2pkh);
    const xpub = getChainAdapter('LTC').xpubFromSeed(mnemonicToSeedSync(ABANDON), true);
    pend.withdrawal = api.queue({
      chain: 'LTC',
      hashes: [ids.b!],
      index: null,
      withdrawalId: 'withdrawal-0001',
      withdrawalResponses: [
        {
          address: { address: scripts.b2P2pkh.address, currency: 'LTC', derivationKey: 2, xpub },
          amount: 3,
          vIn: w.txid,
          vInIndex: w.vout,
          scriptPubKey: null,
        },
        { address: null, amount: 1 - FEE / 1e8, vIn: '-1', vInIndex: null, scriptPubKey: null },
      ],
      serializedTransaction: bitcoreJson(
        [w],
        [
          { script: await destination(), satoshis: 2e8 },
          { script: payments.p2pkh({ pubkey: pubB(0), network: REGTEST }).output!, satoshis: 1e8 - FEE },
        ],
      ),
    });

    // BCH: inputs of two wallets (positional), and two inputs of one key (Tatum's §7.9 bug case).
    const bchSeed = mnemonicToSeedSync(LEGAL);
    const bchM0 = Uint8Array.from(bip32.fromSeed(bchSeed).derivePath("m/44'/145'/0'/0/0").publicKey);
    bchOneKeyPub = compressedPub(testKey(0x21));
    bchOwners = [bchOneKeyPub, bchM0];
    const bchTx = (n: number) => {
      const tx = new Transaction();
      tx.version = 2;
      for (let i = 0; i < n; i++) tx.addInput(randomBytes(32), i, 0xffffffff);
      tx.addOutput(payments.p2pkh({ pubkey: compressedPub(testKey(0x31)) }).output!, 90_000n);
      return tx.toHex();
    };
    pend.bchTwo = api.queue({
      chain: 'BCH',
      hashes: [ids.bchKey!],
      signatures: [{ id: ids.bchMnemonic!, index: 0 }],
      serializedTransaction: `${bchTx(2)}:[50000,60000]`,
    });
    pend.bchSameKey = api.queue({
      chain: 'BCH',
      hashes: [ids.bchKey!],
      serializedTransaction: `${bchTx(2)}:[70000,40000]`,
    });
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await node?.stop();
  });

  it('signs and broadcasts every pending transaction in one --runOnce; the node mines them all', async () => {
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'LTC,BCH']);
    expect(r.code, explain(r)).toBe(0);
    expect(api.errorReports).toEqual([]);
    const ltc = [pend.p2pkh, pend.segwit, pend.twoWallets, pend.withdrawal];
    for (const id of ltc) {
      const b = api.broadcasts.find((x) => x.signatureId === id);
      expect(b?.error, `broadcast of ${id}`).toBeUndefined();
      expect(b?.txId).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(api.broadcasts.find((x) => x.signatureId === pend.withdrawal)).toMatchObject({
      kind: 'offchain',
      withdrawalId: 'withdrawal-0001',
    });
    await node.generateToAddress(1, mineTo);
    for (const id of ltc) {
      const txId = api.broadcasts.find((x) => x.signatureId === id)!.txId!;
      expect((await node.getRawTransaction(txId)).confirmations, id).toBe(1);
    }
    // The withdrawal's remainder went back to the wallet's index-0 address, as the "-1" entry says.
    const wtx = (await node.getRawTransaction(
      api.broadcasts.find((x) => x.signatureId === pend.withdrawal)!.txId!,
    )) as {
      vout: { value: number; scriptPubKey: { hex: string } }[];
    };
    expect(wtx.vout.map((o) => [o.scriptPubKey.hex, Math.round(o.value * 1e8)])).toContainEqual([
      hex(payments.p2pkh({ pubkey: pubB(0), network: REGTEST }).output!),
      1e8 - FEE,
    ]);
  });

  it('journals each transaction as broadcast and audits the signature before the broadcast', () => {
    const journal = journalRows(tv);
    const audit = auditRecords(tv);
    for (const id of Object.values(pend)) {
      const row = journal.get(id)!;
      const b = api.broadcasts.find((x) => x.signatureId === id)!;
      expect(row).toMatchObject({ state: 'broadcast', rawTx: b.txData, chainTxId: b.txId });
      const sign = audit.findIndex((a) => a.event === 'sign' && a.subject === id && a.result === 'ok');
      const cast = audit.findIndex((a) => a.event === 'broadcast' && a.subject === id && a.result === 'ok');
      expect(sign).toBeGreaterThan(-1);
      expect(cast).toBeGreaterThan(sign);
      expect(audit[sign]!.details).toMatchObject({
        pendingId: id,
        rawTxHash: createHash('sha256').update(b.txData).digest('hex'),
        approvalRequired: false,
      });
      expect(audit[cast]!.details).toMatchObject({ pendingId: id, txId: b.txId });
    }
    expect(audit.at(-1)).toMatchObject({ event: 'seal', result: 'ok' });
  });

  it('BCH: every input carries a valid ECDSA signature with SIGHASH_ALL|FORKID by the key that owns it', () => {
    const check = (id: string, amounts: number[], owners: Uint8Array[]) => {
      const tx = Transaction.fromHex(api.broadcasts.find((x) => x.signatureId === id)!.txData);
      tx.ins.forEach((input, i) => {
        const [sigSh, pub] = bscript.decompile(input.script) as Uint8Array[];
        expect(hex(pub!)).toBe(hex(owners[i]!));
        expect(sigSh![sigSh!.length - 1]).toBe(0x41);
        const digest = tx.hashForWitnessV0(
          i,
          payments.p2pkh({ hash: bcrypto.hash160(pub!) }).output!,
          BigInt(amounts[i]!),
          0x41,
        );
        const sig = secp256k1.Signature.fromDER(sigSh!.subarray(0, -1));
        expect(sig.hasHighS()).toBe(false);
        expect(secp256k1.verify(sig.toCompactRawBytes(), digest, pub!, { prehash: false })).toBe(true);
      });
    };
    check(pend.bchTwo!, [50_000, 60_000], bchOwners);
    check(pend.bchSameKey!, [70_000, 40_000], [bchOneKeyPub, bchOneKeyPub]);
  });
});
