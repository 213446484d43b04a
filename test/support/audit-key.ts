import { createPublicKey } from 'node:crypto';
import { p256 } from '@noble/curves/p256';

/**
 * A host P-256 key standing in for the token's audit key, for tests of the log format and
 * the report: its PEM (what `audit verify --pubkey` takes) and a signer of record hashes.
 */
export function hostAuditKey(): { pem: string; signer: (hash: Buffer) => Buffer } {
  const priv = p256.utils.randomPrivateKey();
  const spkiPrefix = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
  const pem = createPublicKey({
    key: Buffer.concat([spkiPrefix, Buffer.from(p256.getPublicKey(priv, false))]),
    format: 'der',
    type: 'spki',
  })
    .export({ format: 'pem', type: 'spki' })
    .toString();
  return { pem, signer: (hash) => Buffer.from(p256.sign(hash, priv, { prehash: false }).toCompactRawBytes()) };
}
