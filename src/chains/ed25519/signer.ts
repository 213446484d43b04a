import { HardkmsError } from '../../errors.js';
import { verifyEd25519 } from '../../ed25519-verify.js';

/**
 * The one operation one-key ed25519 chains (XLM, ALGO) need from a key: a pure Ed25519
 * signature (RFC 8032) over a message. The token implements it for stored keys, so chain
 * code never sees key material.
 */
export interface Ed25519Signer {
  /** 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Asks for a signature and checks it against signer.publicKey before it goes anywhere. */
export async function signEd25519Checked(signer: Ed25519Signer, message: Uint8Array): Promise<Uint8Array> {
  const sig = await signer.sign(message);
  if (!(sig instanceof Uint8Array) || sig.length !== 64 || !verifyEd25519(sig, message, signer.publicKey)) {
    throw new HardkmsError('SIGNATURE_INVALID', 'ed25519 signature does not verify against the signer public key', {
      hint: 'The signing device or key does not match this wallet, or returned a corrupt signature. Nothing was broadcast.',
    });
  }
  return Uint8Array.from(sig);
}
