/** XLM test helpers: envelopes as Tatum's builder makes them, a host ed25519 signer. */
import { ed25519 } from '@noble/curves/ed25519';
import { Account, Keypair, Memo, Networks, TransactionBuilder, type Operation } from '@stellar/stellar-base';
import type { Ed25519Signer } from '../../src/chains/ed25519/signer.js';

const me = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 7));

export function hostSigner(s: Uint8Array): Ed25519Signer {
  return { publicKey: ed25519.getPublicKey(s), sign: (m) => Promise.resolve(ed25519.sign(m, s)) };
}

/** An unsigned v1 envelope (base64), fee 100, timeBounds +300 s; default source: the account of seed 0x07…. */
export function xlmEnvelope(
  op: ReturnType<typeof Operation.payment>,
  opts: { source?: string; testnet?: boolean; memo?: Memo } = {},
): string {
  const b = new TransactionBuilder(new Account(opts.source ?? me.publicKey(), '41'), {
    fee: '100',
    networkPassphrase: opts.testnet === false ? Networks.PUBLIC : Networks.TESTNET,
  })
    .addOperation(op)
    .setTimeout(300);
  if (opts.memo) b.addMemo(opts.memo);
  return b.build().toEnvelope().toXDR('base64');
}
