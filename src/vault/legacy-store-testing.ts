import { entryError, secretBuffer, type LegacyEntry } from './legacy-store.js';

/**
 * Rebuilds Tatum's JSON object (key = signatureId): tests write Tatum stores with it; hardkms
 * itself only reads them. Returns UTF-8 bytes the caller wipes (legacy-store.ts on strings).
 */
export function serializeLegacyStore(entries: readonly LegacyEntry[]): Buffer {
  // Null prototype: a signature id of "__proto__" must stay an ordinary key.
  const out: Record<string, Record<string, string | boolean>> = Object.create(null) as Record<
    string,
    Record<string, string | boolean>
  >;
  for (const e of entries) {
    if (Object.prototype.hasOwnProperty.call(out, e.signatureId)) {
      throw entryError(e.signatureId, 'appears twice');
    }
    const o: Record<string, string | boolean> = {};
    if (e.mnemonic) o.mnemonic = e.mnemonic.toString('utf8');
    if (e.privateKey) o.privateKey = e.privateKey.toString('utf8');
    if (e.secret) o.secret = e.secret.toString('utf8');
    if (e.address !== undefined) o.address = e.address;
    if (e.xpub !== undefined) o.xpub = e.xpub;
    o.chain = e.chain;
    if (!e.testnetMissing) o.testnet = e.testnet;
    out[e.signatureId] = o;
  }
  return secretBuffer(JSON.stringify(out));
}
