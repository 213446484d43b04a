/**
 * Attacks on SOL signing that Tatum KMS does not stop (its `kms.sign` re-compiles whatever
 * message it is given and signs it with every wallet key, without reading it): an
 * instruction that hands a token account or the wallet itself to someone else (SPL
 * SetAuthority / Approve, System Assign), a priority fee that burns the balance, a
 * versioned message whose accounts hide in lookup tables, a node lying about which token
 * an SPL transfer moves, a payload that makes the wallet sign for someone else's account,
 * and a journaled transaction swapped for another message before it is re-sent.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { ComputeBudgetProgram, Keypair, SystemProgram, TransactionInstruction, PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import type { Ed25519Signer } from '../../src/chains/ed25519/signer.js';
import { base58Encode } from '../../src/chains/keys.js';
import {
  associatedTokenAddress,
  decodeSol,
  parseSolPayload,
  signSol,
  solSignedMismatch,
  solSignersFor,
  TOKEN_PROGRAM,
} from '../../src/chains/sol/sign.js';
import { evaluatePolicy } from '../../src/signer/pipeline/policy.js';
import { solKeypair, solPayloadOf, solTransferPayload, splTransferPayload } from '../support/sol.js';

const ME = solKeypair(0x21);
const VICTIM = solKeypair(0x22).publicKey;
const ATTACKER = solKeypair(0x23).publicKey;
const MINT = solKeypair(0x24).publicKey.toBase58();
const ctx = { chain: 'SOL', signatureIds: ['w'], spent24h: () => 0n, defaultDeny: false };

function host(kp: Keypair): Ed25519Signer {
  const seed = kp.secretKey.slice(0, 32);
  return { publicKey: kp.publicKey.toBytes(), sign: (m) => Promise.resolve(ed25519.sign(m, seed)) };
}

function tokenIx(data: number[], keys: PublicKey[]): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(TOKEN_PROGRAM),
    keys: keys.map((k, i) => ({ pubkey: k, isSigner: i === keys.length - 1, isWritable: i === 0 })),
    data: Buffer.from(data),
  });
}

describe('SOL signing attacks', () => {
  it('SPL SetAuthority / Approve (the token account handed to the attacker) and System Assign are refused by the policy, not signed', () => {
    const ata = new PublicKey(associatedTokenAddress(ME.publicKey.toBase58(), MINT));
    const handovers = [
      tokenIx([6, 2, 1, ...ATTACKER.toBytes()], [ata, ME.publicKey]), // SetAuthority(AccountOwner → attacker)
      tokenIx([4, ...Buffer.alloc(8, 0xff)], [ata, ATTACKER, ME.publicKey]), // Approve(attacker, u64::MAX)
      SystemProgram.assign({ accountPubkey: ME.publicKey, programId: ATTACKER }),
    ];
    for (const ix of handovers) {
      const decoded = decodeSol(parseSolPayload(solPayloadOf(ME.publicKey.toBase58(), [ix])));
      expect(decoded.call?.kind).toBe('call');
      expect(evaluatePolicy(undefined, decoded, ctx)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/unknown calldata is not allowed/),
      });
    }
  });

  it('a priority fee that burns the balance is refused by the built-in fee limit, without a policy file', () => {
    const st = solPayloadOf(ME.publicKey.toBase58(), [
      ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 10_000_000_000n }),
      SystemProgram.transfer({ fromPubkey: ME.publicKey, toPubkey: ATTACKER, lamports: 1n }),
    ]);
    const decoded = decodeSol(parseSolPayload(st));
    expect(decoded.fee).toBe(5000n + 14_000_000_000n);
    expect(evaluatePolicy(undefined, decoded, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/fee/) });
  });

  it('a versioned (v0) message, whose accounts may hide in lookup tables, is refused', () => {
    const legacy = JSON.parse(
      solTransferPayload({ from: ME.publicKey.toBase58(), to: ATTACKER.toBase58(), lamports: 1n }),
    ) as { txData: string };
    expect(() => parseSolPayload(JSON.stringify({ txData: `80${legacy.txData}00` }))).toThrow(
      /versioned \(v0\) message/,
    );
  });

  it('a node lying about the mint of the source token account does not change what the policy sees: refused', () => {
    const p = parseSolPayload(
      splTransferPayload({
        from: ME.publicKey.toBase58(),
        to: ATTACKER.toBase58(),
        mint: MINT,
        amount: 10n ** 12n,
        createAta: false,
      }),
    );
    const src = associatedTokenAddress(ME.publicKey.toBase58(), MINT);
    const cheap = solKeypair(0x25).publicKey.toBase58(); // a token the policy would let through
    expect(() => decodeSol(p, new Map([[src, { mint: cheap, owner: ME.publicKey.toBase58() }]]))).toThrow(
      /cannot tell which token/,
    );
  });

  it("a transfer out of someone else's account (a required signer that is not ours) is not signed, even with our key in the transaction", async () => {
    const st = solTransferPayload({
      from: VICTIM.toBase58(),
      to: ATTACKER.toBase58(),
      lamports: 10n ** 9n,
      feePayer: ME.publicKey.toBase58(),
    });
    const p = parseSolPayload(st);
    expect(() => solSignersFor(p, [host(ME)])).toThrow(/required signer \w+ is not one of this transaction's wallets/);
  });

  it('a journaled transaction swapped for another message (blockhash aside) is refused before it is re-sent', async () => {
    const st = solTransferPayload({ from: ME.publicKey.toBase58(), to: ATTACKER.toBase58(), lamports: 1n });
    const other = solTransferPayload({ from: ME.publicKey.toBase58(), to: ATTACKER.toBase58(), lamports: 10n ** 9n });
    const p = parseSolPayload(other);
    const swapped = await signSol(p, solSignersFor(p, [host(ME)]), base58Encode(new Uint8Array(32).fill(3)));
    expect(solSignedMismatch(st, swapped)).toBe('the message differs');
  });

  it('a signer returning a signature over other bytes is caught before anything leaves', async () => {
    const p = parseSolPayload(
      solTransferPayload({ from: ME.publicKey.toBase58(), to: ATTACKER.toBase58(), lamports: 1n }),
    );
    const seed = ME.secretKey.slice(0, 32);
    const bad = {
      publicKey: ME.publicKey.toBytes(),
      sign: () => Promise.resolve(ed25519.sign(Buffer.from('other'), seed)),
    };
    await expect(signSol(p, [bad], base58Encode(new Uint8Array(32).fill(3)))).rejects.toThrow(/does not verify/);
  });
});
