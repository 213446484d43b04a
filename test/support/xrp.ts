/** XRP test helpers: payloads as Tatum's builder autofills them (chains §2.1), host signers. */
import { ed25519 } from '@noble/curves/ed25519';
import { deriveKeypair, deriveAddress } from 'ripple-keypairs';
import { hostDigestSigner } from '../../src/chains/digest-signer.js';
import { parseXrpSecret, xrpSigningKey } from '../../src/chains/xrp/keys.js';
import type { XrpKey } from '../../src/chains/xrp/sign.js';

/** xrpl's documented secp256k1 example seed and its address. */
export const SECP_SEED = 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb';
export const SECP_ADDRESS = 'rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh';
/** An ed25519 seed (sEd…) of 16 bytes 0x01 and its address. */
export const ED_SEED = 'sEdSKaVGtEer9RrxMSMhFM2WVSW5LT3';

export function addressOf(seed: string): string {
  return deriveAddress(deriveKeypair(seed).publicKey);
}

/** A key as the daemon hands it to signXrp, but in host memory. */
export function hostXrpKey(seedText: string): XrpKey {
  const k = xrpSigningKey(parseXrpSecret(seedText));
  if (k.curve === 'ed25519') {
    const sk = k.privateKey;
    return { curve: 'ed25519', signer: { publicKey: k.publicKey, sign: (m) => Promise.resolve(ed25519.sign(m, sk)) } };
  }
  return { curve: 'secp256k1', signer: hostDigestSigner(k.privateKey) };
}

/** JSON.stringify(await client.autofill(payment)), in the SDK's literal key order. */
export function xrpPayment(account: string, fields: Record<string, unknown> = {}): string {
  const { SourceTag, DestinationTag, Amount, Destination, ...rest } = fields;
  return JSON.stringify({
    Account: account,
    Amount: Amount ?? '1000000',
    ...(SourceTag === undefined ? {} : { SourceTag }),
    Destination: Destination ?? 'rUCzEr6jrEyMpjhs4wSdQdz4g8Y382NxfM',
    TransactionType: 'Payment',
    Sequence: 7,
    LastLedgerSequence: 85_000_600,
    Fee: '12',
    ...(DestinationTag === undefined ? {} : { DestinationTag }),
    Flags: 0,
    ...rest,
  });
}
