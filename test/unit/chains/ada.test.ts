/**
 * ADA: Tatum's derivation (its own SDK test vectors, and @emurgo/cardano-serialization-lib as
 * the independent checker of derivation, addresses and signatures), the operations decoded
 * for the policy, and the Rosetta construction flow against the fake Rosetta node, the
 * signed transaction decoded by the library with its witness verified.
 */
import C from '@emurgo/cardano-serialization-lib-nodejs';
import { mnemonicToEntropy } from 'bip39';
import { describe, expect, it } from 'vitest';
import { adaKit, adaEntropyFromMnemonic } from '../../../src/chains/ada/kit.js';
import {
  adaPrivateKeyAt,
  adaPublicKeyFromXpub,
  adaPublicKeyOfExtended,
  adaRootFromEntropy,
  adaSign,
  adaXpubFromRoot,
} from '../../../src/chains/ada/keys.js';
import { adaAddress } from '../../../src/chains/ada/address.js';
import {
  adaSignedMismatch,
  adaSignersByAddress,
  adaTxHash,
  decodeAda,
  parseAdaOperations,
  prepareAda,
} from '../../../src/chains/ada/sign.js';
import { decodeSignedEnvelope, FakeCardanoRosetta } from '../../support/ada-rosetta.js';
import { ME, ME_ADDR, rosettaOf, TATUM_MNEMONIC, tatumOps, TO } from '../../support/ada-payloads.js';

// Tatum's SDK test mnemonic and what its cardano wallet test expects (tatum-js v2, cardano.wallet.spec.ts).
const TATUM_XPUB =
  'a6058635d8b12cbcfa4019dbb50c03807179dd62dfed792e74f380947061203b9fb72a5546ed22efc0798b4cc6fb33867fd209e350d101941807f3e7b5c1fe42';
const TATUM_KEY0 =
  '8873d5e84af86978f03b63d9ffc9c6f940bd8501d32e91980c904e8d81c305507dc95992faa5aefccb263b28b411eda2dde7882d922742663804a69d78182e34';
const TATUM_ADDR0_TESTNET = 'addr_test1vzfp68vn36ze5yz7x7evracmasuptjmz99qk4j23gun3pcqhlevq5';
const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const H = 0x8000_0000;

function cslRole(mnemonic: string): C.Bip32PrivateKey {
  const root = C.Bip32PrivateKey.from_bip39_entropy(Buffer.from(mnemonicToEntropy(mnemonic), 'hex'), new Uint8Array());
  return root
    .derive(H + 1852)
    .derive(H + 1815)
    .derive(H)
    .derive(H);
}

describe('ADA keys', () => {
  it("Tatum's SDK vectors: xpub at m/1852'/1815'/0'/0', key and testnet enterprise address of index 0", () => {
    const kit = adaKit();
    const root = kit.mnemonicToSeed(Buffer.from(TATUM_MNEMONIC));
    expect(kit.xpubFromSeed(root, true)).toBe(TATUM_XPUB);
    expect(kit.xpubFromSeed(root, false)).toBe(TATUM_XPUB);
    const k0 = kit.privateKeyFromSeed(root, 0, true);
    expect(kit.formatPrivateKey(k0, true)).toBe(TATUM_KEY0);
    expect(kit.addressFromXpub(TATUM_XPUB, 0, true)).toBe(TATUM_ADDR0_TESTNET);
    expect(kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(k0)), true)).toBe(TATUM_ADDR0_TESTNET);
    expect(kit.addressFromXpub(TATUM_XPUB, 0, false)).toMatch(/^addr1v/);
  });

  it('derivation, public derivation, addresses and signatures agree with cardano-serialization-lib (abandon…about, several indexes)', () => {
    const entropy = adaEntropyFromMnemonic(Buffer.from(ABANDON));
    expect(Buffer.from(entropy).toString('hex')).toBe(mnemonicToEntropy(ABANDON));
    const root = adaRootFromEntropy(entropy);
    const role = cslRole(ABANDON);
    const xpub = adaXpubFromRoot(root);
    expect(xpub).toBe(Buffer.from(role.to_public().as_bytes()).toString('hex'));
    for (const i of [0, 1, 19, 2 ** 31 - 1]) {
      const k = adaPrivateKeyAt(root, i);
      const lib = role.derive(i);
      expect(Buffer.from(k).toString('hex')).toBe(Buffer.from(lib.to_raw_key().as_bytes()).toString('hex'));
      const libPub = lib.to_public().to_raw_key();
      expect(Buffer.from(adaPublicKeyFromXpub(xpub, i))).toEqual(Buffer.from(libPub.as_bytes()));
      expect(Buffer.from(adaPublicKeyOfExtended(k))).toEqual(Buffer.from(libPub.as_bytes()));
      const msg = Buffer.from(`message ${i}`);
      const sig = adaSign(k, msg);
      expect(Buffer.from(sig)).toEqual(Buffer.from(lib.to_raw_key().sign(msg).to_bytes()));
      expect(libPub.verify(msg, C.Ed25519Signature.from_bytes(sig))).toBe(true);
      for (const testnet of [true, false]) {
        const libAddr = C.EnterpriseAddress.new(testnet ? 0 : 1, C.Credential.from_keyhash(libPub.hash()))
          .to_address()
          .to_bech32(undefined);
        expect(adaAddress(libPub.as_bytes(), testnet)).toBe(libAddr);
      }
    }
  });

  it('refuses a mnemonic not in canonical form, a bad checksum, private keys (the token cannot hold them), bad xpubs and hardened address indexes', () => {
    const kit = adaKit();
    expect(() => kit.mnemonicToSeed(Buffer.from(ABANDON.toUpperCase()))).toThrow(/exactly as BIP39 lists them/);
    expect(() => kit.mnemonicToSeed(Buffer.from(ABANDON.replace('about', 'abandon')))).toThrow();
    expect(() => kit.parsePrivateKey(TATUM_KEY0, true)).toThrow(/does not store ADA private keys/);
    expect(() => kit.parsePrivateKey('ab'.repeat(32), true)).toThrow(/128 hex digits/);
    expect(() => kit.addressFromXpub('ff'.repeat(64), 0, true)).toThrow(/valid ed25519 public key/);
    expect(() => kit.addressFromXpub(TATUM_XPUB.slice(2), 0, true)).toThrow(/128 hex digits/);
    expect(() => kit.addressFromXpub(TATUM_XPUB, 2 ** 31, true)).toThrow(/soft/);
  });
});

describe('ADA payloads and the Rosetta construction flow', () => {
  it('decodes the operations for the policy: change to the signing key is not counted, the fee is inputs − outputs', () => {
    const ops = parseAdaOperations(JSON.stringify(tatumOps()), true);
    expect(ops.fee).toBe(200_000n);
    expect(decodeAda(ops, [ME_ADDR])).toEqual({
      chain: 'ADA',
      outputs: [{ address: TO, amount: 1_000_000n }],
      fee: 200_000n,
    });
    expect(() => parseAdaOperations(JSON.stringify(tatumOps()), false)).toThrow(
      /testnet address, but this daemon signs mainnet/,
    );
    expect(() => parseAdaOperations(JSON.stringify(tatumOps({ value: '1200000' })), true)).toThrow(/no fee is left/);
    const staking = tatumOps();
    (staking[1] as Record<string, unknown>).type = 'stakeDelegation';
    expect(() => parseAdaOperations(JSON.stringify(staking), true)).toThrow(/not signed/);
    const token = tatumOps();
    (token[1] as Record<string, unknown>).metadata = { tokenBundle: [{ policyId: 'ab', tokens: [] }] };
    expect(() => parseAdaOperations(JSON.stringify(token), true)).toThrow(/must be empty/);
  });

  it("calls preprocess → metadata → payloads → combine with Tatum's request shapes; the library decodes the result and verifies the witness", async () => {
    const fake = new FakeCardanoRosetta();
    const ops = parseAdaOperations(JSON.stringify(tatumOps()), true);
    const byAddress = adaSignersByAddress(ops, [ME], true);
    const prepared = await prepareAda(ops, rosettaOf(fake), byAddress, true);
    const { txData, txId } = await prepared.sign();
    expect(fake.requests.map((r) => r.endpoint)).toEqual(['preprocess', 'metadata', 'payloads', 'combine']);
    const net = { blockchain: 'cardano', network: 'preprod' };
    expect(fake.requests[0]!.body).toEqual({
      network_identifier: net,
      operations: tatumOps(),
      metadata: { relative_ttl: 1000 },
    });
    expect(Object.keys(fake.requests[1]!.body)).toEqual(['network_identifier', 'options']);
    expect(Object.keys(fake.requests[2]!.body)).toEqual([
      'network_identifier',
      'operations',
      'metadata',
      'suggested_fee',
    ]);
    const sigs = fake.requests[3]!.body.signatures as Record<string, unknown>[];
    expect(sigs).toHaveLength(1);
    expect(Object.keys(sigs[0]!)).toEqual(['signing_payload', 'public_key', 'signature_type', 'hex_bytes']);
    expect(sigs[0]!.public_key).toEqual({
      hex_bytes: Buffer.from(ME.publicKey).toString('hex'),
      curve_type: 'edwards25519',
    });

    const tx = decodeSignedEnvelope(txData);
    expect(Buffer.from(tx.transaction_hash().to_bytes()).toString('hex')).toBe(txId);
    expect(adaTxHash(txData)).toBe(txId);
    const body = tx.body();
    expect(body.fee().to_str()).toBe('200000');
    expect(body.ttl()).toBe(fake.tipSlot + 1000);
    expect(body.outputs().get(0).address().to_bech32(undefined)).toBe(TO);
    const w = tx.witness_set().vkeys()!;
    expect(w.len()).toBe(1);
    const pub = w.get(0).vkey().public_key();
    expect(pub.hash().to_hex()).toBe(C.Address.from_bech32(ME_ADDR).payment_cred()!.to_keyhash()!.to_hex());
    expect(pub.verify(tx.transaction_hash().to_bytes(), w.get(0).signature())).toBe(true);
    expect(adaSignedMismatch(JSON.stringify(tatumOps()), txData, true)).toBeUndefined();
    expect(adaSignedMismatch(JSON.stringify(tatumOps({ value: '2000000' })), txData, true)).toMatch(/output|fee/);
    // ed25519 is deterministic: the same payload signs to the same bytes.
    const again = await (await prepareAda(ops, rosettaOf(fake), byAddress, true)).sign();
    expect(again.txData).toBe(txData);
  });
});
