/**
 * SOL: Tatum's key formats and mnemonic derivation (checked against @solana/web3.js), the
 * payload decoded for the policy, the signer checks (a foreign fee payer, a wallet that
 * is not a signer), and signatures over the message with a fresh blockhash verified by
 * web3.js and by @noble/curves.
 */
import { ed25519 } from '@noble/curves/ed25519';
import {
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  VersionedTransaction,
} from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { chainKit } from '../../../src/chains/kit.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import { base58Encode } from '../../../src/chains/keys.js';
import { parseSolSecret, formatSolSecret } from '../../../src/chains/sol/keys.js';
import {
  associatedTokenAddress,
  decodeSol,
  parseSolPayload,
  signSol,
  solAccountsToLookUp,
  solSignedMismatch,
  solSignersFor,
  solTxId,
  withBlockhash,
} from '../../../src/chains/sol/sign.js';
import type { Ed25519Signer } from '../../../src/chains/ed25519/signer.js';
import {
  PLACEHOLDER_BLOCKHASH,
  solKeypair,
  solPayloadOf,
  solTransferPayload,
  splTransferInstruction,
  splTransferPayload,
} from '../../support/sol.js';

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const FRESH = base58Encode(new Uint8Array(32).fill(9));
const MINT = solKeypair(0x33).publicKey.toBase58();

function host(kp: Keypair): Ed25519Signer {
  const seed = kp.secretKey.slice(0, 32);
  return { publicKey: kp.publicKey.toBytes(), sign: (m) => Promise.resolve(ed25519.sign(m, seed)) };
}

describe('SOL keys', () => {
  it('parses Tatum privateKeys (base58 of 64 bytes, 128 hex) to the seed; formats back to base58; refuses an inconsistent key', () => {
    const kp = solKeypair(5);
    const b58 = base58Encode(kp.secretKey);
    const hex = Buffer.from(kp.secretKey).toString('hex');
    expect(Buffer.from(parseSolSecret(b58))).toEqual(Buffer.from(kp.secretKey.slice(0, 32)));
    expect(Buffer.from(parseSolSecret(hex))).toEqual(Buffer.from(kp.secretKey.slice(0, 32)));
    expect(formatSolSecret(kp.secretKey.slice(0, 32))).toBe(b58);
    const bad = Uint8Array.from(kp.secretKey);
    bad[40]! ^= 1;
    expect(() => parseSolSecret(base58Encode(bad))).toThrow(/second half is not the public key/);
    expect(() => parseSolSecret(kp.publicKey.toBase58())).toThrow(/base58 of the 64-byte secret key/);
  });

  it("mnemonic wallets: index i on m/44'/501'/0'/0'/i' (abandon…about index 0 = B9sVeu4…, Tatum's golden value); index 0 is the address of the entry", () => {
    const kit = chainKit('SOL');
    const seed = mnemonicToSeed(Buffer.from(ABANDON));
    expect(kit.mnemonicPublicData!(seed, false)).toEqual({ address: 'B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY' });
    const k1 = kit.privateKeyFromSeed(seed, 1, false);
    expect(kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(k1)), false)).toBe(
      Keypair.fromSeed(k1).publicKey.toBase58(),
    );
    expect(kit.formatPrivateKey(k1, false)).toBe(base58Encode(Keypair.fromSeed(k1).secretKey));
  });
});

describe('SOL payloads', () => {
  const me = solKeypair(1);
  const payer = solKeypair(2);
  const dest = solKeypair(3).publicKey.toBase58();

  it('decodes a transfer: destination, lamports, fee = 5000 per signature', () => {
    const p = parseSolPayload(solTransferPayload({ from: me.publicKey.toBase58(), to: dest, lamports: 1_500_000n }));
    expect(decodeSol(p)).toEqual({ chain: 'SOL', outputs: [{ address: dest, amount: 1_500_000n }], fee: 5000n });
    const two = parseSolPayload(
      solTransferPayload({
        from: me.publicKey.toBase58(),
        to: dest,
        lamports: 1n,
        feePayer: payer.publicKey.toBase58(),
      }),
    );
    expect(two.numRequiredSignatures).toBe(2);
    expect(decodeSol(two).fee).toBe(10_000n);
  });

  it('decodes an SPL transfer with the ATA creation: mint and recipient wallet proven by derivation; without it, from the node, checked the same way', () => {
    const st = splTransferPayload({
      from: me.publicKey.toBase58(),
      to: dest,
      mint: MINT,
      amount: 250n,
      createAta: true,
    });
    const p = parseSolPayload(st);
    const src = associatedTokenAddress(me.publicKey.toBase58(), MINT);
    expect(solAccountsToLookUp(p)).toContain(src);
    const accounts = new Map([[src, { mint: MINT, owner: me.publicKey.toBase58() }]]);
    expect(decodeSol(p, accounts).token).toEqual({ contract: MINT, standard: 'SPL', to: dest, amount: 250n });
    const plain = parseSolPayload(
      splTransferPayload({ from: me.publicKey.toBase58(), to: dest, mint: MINT, amount: 7n, createAta: false }),
    );
    const destAta = associatedTokenAddress(dest, MINT);
    const both = new Map([...accounts, [destAta, { mint: MINT, owner: dest }]]);
    expect(decodeSol(plain, both).token).toEqual({ contract: MINT, standard: 'SPL', to: dest, amount: 7n });
    // A node that lies about the mint of the source account is caught by the derivation.
    const lie = new Map([[src, { mint: solKeypair(0x44).publicKey.toBase58(), owner: me.publicKey.toBase58() }]]);
    expect(() => decodeSol(plain, lie)).toThrow(/cannot tell which token/);
  });

  it('an instruction of another program is a contract call for the policy; two of them are refused; a versioned message is refused', () => {
    const other = new TransactionInstruction({
      programId: solKeypair(0x66).publicKey,
      keys: [],
      data: Buffer.from('01020304ff', 'hex'),
    });
    const p = parseSolPayload(solPayloadOf(me.publicKey.toBase58(), [other]));
    expect(decodeSol(p).call).toMatchObject({
      kind: 'call',
      to: solKeypair(0x66).publicKey.toBase58(),
      selector: '0x01020304',
      dataLength: 5,
    });
    expect(() => decodeSol(parseSolPayload(solPayloadOf(me.publicKey.toBase58(), [other, other])))).toThrow(
      /more than one instruction/,
    );
    const v0 = JSON.parse(solTransferPayload({ from: me.publicKey.toBase58(), to: dest, lamports: 1n })) as {
      txData: string;
    };
    expect(() => parseSolPayload(JSON.stringify({ txData: `80${v0.txData}` }))).toThrow(/versioned \(v0\) message/);
    expect(() => parseSolPayload(JSON.stringify({ txData: v0.txData, feePayer: 'x' }))).toThrow(
      /unknown field "feePayer"/,
    );
  });

  it('refuses a foreign fee payer and a wallet that does not sign; orders signers as the message requires', () => {
    const p = parseSolPayload(
      solTransferPayload({
        from: me.publicKey.toBase58(),
        to: dest,
        lamports: 1n,
        feePayer: payer.publicKey.toBase58(),
      }),
    );
    expect(() => solSignersFor(p, [host(me)])).toThrow(
      /TX_PAYLOAD_MISMATCH|fee payer .* is not one of this transaction's wallets/,
    );
    expect(() => solSignersFor(p, [host(me), host(payer), host(solKeypair(9))])).toThrow(
      /is not a signer of this transaction/,
    );
    const ordered = solSignersFor(p, [host(me), host(payer)]);
    expect(ordered.map((s) => base58Encode(s.publicKey))).toEqual([
      payer.publicKey.toBase58(),
      me.publicKey.toBase58(),
    ]);
  });

  it('signs the message with the fresh blockhash; web3.js and noble verify every signature; deterministic; the journal check accepts it and nothing else', async () => {
    const st = solTransferPayload({
      from: me.publicKey.toBase58(),
      to: dest,
      lamports: 42n,
      feePayer: payer.publicKey.toBase58(),
    });
    const p = parseSolPayload(st);
    const signers = solSignersFor(p, [host(me), host(payer)]);
    const wire = await signSol(p, signers, FRESH);
    const vt = VersionedTransaction.deserialize(Buffer.from(wire, 'base64'));
    expect(vt.message.recentBlockhash).toBe(FRESH);
    const legacy = Transaction.from(Buffer.from(wire, 'base64'));
    expect(legacy.verifySignatures()).toBe(true);
    expect(legacy.feePayer?.toBase58()).toBe(payer.publicKey.toBase58());
    expect(SystemProgram.programId.equals(legacy.instructions[0]!.programId)).toBe(true);
    for (const [i, sig] of vt.signatures.entries()) {
      expect(ed25519.verify(sig, vt.message.serialize(), vt.message.staticAccountKeys[i]!.toBytes())).toBe(true);
    }
    expect(Buffer.from(withBlockhash(p, PLACEHOLDER_BLOCKHASH))).toEqual(Buffer.from(p.bytes));
    expect(await signSol(p, signers, FRESH)).toBe(wire);
    expect(solTxId(wire)).toBe(base58Encode(vt.signatures[0]!));
    expect(solSignedMismatch(st, wire)).toBeUndefined();
    const other = solTransferPayload({
      from: me.publicKey.toBase58(),
      to: dest,
      lamports: 43n,
      feePayer: payer.publicKey.toBase58(),
    });
    expect(solSignedMismatch(other, wire)).toBe('the message differs');
  });

  it('mintPK (Tatum mint/deploy builders) signs as a required signer; refused when it is not one', async () => {
    const mintKp = solKeypair(0x77);
    const ix = SystemProgram.createAccount({
      fromPubkey: me.publicKey,
      newAccountPubkey: mintKp.publicKey,
      lamports: 1_461_600,
      space: 82,
      programId: new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'),
    });
    const mintPK = Buffer.from(mintKp.secretKey).toString('hex');
    const p = parseSolPayload(solPayloadOf(me.publicKey.toBase58(), [ix], { mintPK }));
    expect(Buffer.from(p.mintSeed!)).toEqual(Buffer.from(mintKp.secretKey.slice(0, 32)));
    expect(decodeSol(p).outputs).toEqual([{ address: mintKp.publicKey.toBase58(), amount: 1_461_600n }]);
    const wire = await signSol(p, solSignersFor(p, [host(me)], host(mintKp)), FRESH);
    expect(Transaction.from(Buffer.from(wire, 'base64')).verifySignatures()).toBe(true);
    const plain = parseSolPayload(
      solPayloadOf(me.publicKey.toBase58(), [splTransferInstruction(dest, dest, me.publicKey.toBase58(), 1n)], {
        mintPK,
      }),
    );
    expect(() => solSignersFor(plain, [host(me)], host(mintKp))).toThrow(/mintPK .* is not a signer/);
  });
});
