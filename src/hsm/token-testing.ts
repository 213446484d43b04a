import pkcs11js from 'pkcs11js';
import { CURVE_OID } from './ec.js';
import { ED25519_EC_PARAMS, residentKeyTemplates } from './templates.js';
import { decodeEdPoint, Token, type TokenInternals, type WrappedKey } from './token.js';

/**
 * What tests and benchmarks ask of a token that production code never does: read an
 * attribute the token must refuse, unwrap a key without signing, destroy a handle, and
 * sign with resident keys (the benchmarks' baseline against unwrap-per-signature).
 * Kept out of Token so that its public surface is what the signer uses.
 */

/** Reads CKA_VALUE of an object; the token must refuse for every key hardkms makes. */
export function tryReadValue(token: Token, handle: Buffer): Buffer {
  return Token.internalsForTesting(token).readValue(handle);
}

/** Unwraps a wallet key into a session object without signing (tests prove its value cannot be read). */
export function unwrapSecp256k1(token: Token, wrapped: WrappedKey): Buffer {
  return Token.internalsForTesting(token).unwrapSecp256k1(wrapped);
}

export function destroyObject(token: Token, handle: Buffer): void {
  Token.internalsForTesting(token).destroy(handle);
}

/** CKM_ECDSA with a key handle. */
export function signRaw(token: Token, handle: Buffer, digest: Uint8Array): Buffer {
  return Token.internalsForTesting(token).signRaw(handle, digest);
}

/** CKM_EDDSA with a key handle. */
export function signEd25519Raw(token: Token, handle: Buffer, message: Uint8Array): Buffer {
  return Token.internalsForTesting(token).signEd25519Raw(handle, message);
}

/** A resident, non-extractable secp256k1 session key. */
export function generateResidentSecp256k1(token: Token): { handle: Buffer; publicKey: Buffer } {
  const t = Token.internalsForTesting(token);
  const templates = residentKeyTemplates(CURVE_OID.secp256k1);
  const pair = t.lib.C_GenerateKeyPair(
    t.session,
    { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
    templates.publicKey,
    templates.privateKey,
  );
  const publicKey = t.readPublicKey(pair.publicKey);
  t.destroy(pair.publicKey);
  return { handle: pair.privateKey, publicKey };
}

/** A resident, non-extractable ed25519 session key. */
export function generateResidentEd25519(token: Token): { handle: Buffer; publicKey: Buffer } {
  const t = Token.internalsForTesting(token);
  const templates = residentKeyTemplates(ED25519_EC_PARAMS);
  const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
  const pair = t.lib.C_GenerateKeyPair(
    t.session,
    { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
    templates.publicKey,
    templates.privateKey,
  );
  const point = t.lib.C_GetAttributeValue(t.session, pair.publicKey, [{ type: pkcs11js.CKA_EC_POINT }])[0]!
    .value as Buffer;
  t.destroy(pair.publicKey);
  return { handle: pair.privateKey, publicKey: decodeEdPoint(point) };
}

/** The token typed with its private steps, so that a test can spy on them (vi.spyOn patches the instance itself). */
export function spyableSteps(token: Token): Pick<TokenInternals, 'unwrapSecp256k1' | 'signRaw'> {
  return token as unknown as Pick<TokenInternals, 'unwrapSecp256k1' | 'signRaw'>;
}
