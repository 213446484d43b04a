/**
 * SOL pending payloads in exactly the shape Tatum's KMS-mode builders make them
 * (@tatumio/solana 2.2.100, chains §2.3): a web3.js Transaction with the fee payer
 * (`feePayer` or the sender), the instructions, the placeholder blockhash
 * 7WyEshBZcZwEbJsvSeGgCkSNMxxxFAym3x7Cuj6UjAUE, and `JSON.stringify({txData: hex of
 * compileMessage().serialize()})`. SPL transfers: create the recipient's associated token
 * account (paid by the fee payer) when it does not exist, then a plain Transfer from the
 * sender's associated token account.
 */
import {
  Keypair,
  PublicKey,
  SystemProgram,
  SYSVAR_RENT_PUBKEY,
  Transaction,
  TransactionInstruction,
} from '@solana/web3.js';
import { associatedTokenAddress, ASSOCIATED_TOKEN_PROGRAM, TOKEN_PROGRAM } from '../../src/chains/sol/sign.js';

export const PLACEHOLDER_BLOCKHASH = '7WyEshBZcZwEbJsvSeGgCkSNMxxxFAym3x7Cuj6UjAUE';

export function solKeypair(n: number): Keypair {
  return Keypair.fromSeed(new Uint8Array(32).fill(n));
}

function payload(tx: Transaction, extra: Record<string, unknown> = {}): string {
  tx.recentBlockhash = PLACEHOLDER_BLOCKHASH;
  return JSON.stringify({ txData: tx.compileMessage().serialize().toString('hex'), ...extra });
}

export function solTransferPayload(o: { from: string; to: string; lamports: bigint; feePayer?: string }): string {
  const tx = new Transaction({ feePayer: new PublicKey(o.feePayer ?? o.from) });
  tx.add(
    SystemProgram.transfer({ fromPubkey: new PublicKey(o.from), toPubkey: new PublicKey(o.to), lamports: o.lamports }),
  );
  return payload(tx);
}

export function splTransferInstruction(
  source: string,
  destination: string,
  owner: string,
  amount: bigint,
): TransactionInstruction {
  const data = Buffer.alloc(9);
  data[0] = 3;
  data.writeBigUInt64LE(amount, 1);
  return new TransactionInstruction({
    programId: new PublicKey(TOKEN_PROGRAM),
    keys: [
      { pubkey: new PublicKey(source), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(destination), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(owner), isSigner: true, isWritable: false },
    ],
    data,
  });
}

export function createAtaInstruction(ata: string, payer: string, owner: string, mint: string): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(ASSOCIATED_TOKEN_PROGRAM),
    keys: [
      { pubkey: new PublicKey(payer), isSigner: true, isWritable: true },
      { pubkey: new PublicKey(ata), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(owner), isSigner: false, isWritable: false },
      { pubkey: new PublicKey(mint), isSigner: false, isWritable: false },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: new PublicKey(TOKEN_PROGRAM), isSigner: false, isWritable: false },
      { pubkey: SYSVAR_RENT_PUBKEY, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([]),
  });
}

/** Tatum's SPL transfer: `amount` in base units (the builder multiplies by 10^digits). */
export function splTransferPayload(o: {
  from: string;
  to: string;
  mint: string;
  amount: bigint;
  feePayer?: string;
  createAta: boolean;
}): string {
  const feePayer = o.feePayer ?? o.from;
  const tx = new Transaction({ feePayer: new PublicKey(feePayer) });
  const source = associatedTokenAddress(o.from, o.mint);
  const dest = associatedTokenAddress(o.to, o.mint);
  if (o.createAta) tx.add(createAtaInstruction(dest, feePayer, o.to, o.mint));
  tx.add(splTransferInstruction(source, dest, o.from, o.amount));
  return payload(tx);
}

/** Any instructions, Tatum's way (for refusal tests). */
export function solPayloadOf(
  feePayer: string,
  ixs: TransactionInstruction[],
  extra: Record<string, unknown> = {},
): string {
  const tx = new Transaction({ feePayer: new PublicKey(feePayer) });
  tx.add(...ixs);
  return payload(tx, extra);
}
