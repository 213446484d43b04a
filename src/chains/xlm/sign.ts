/**
 * Stellar (XLM) pending transactions (Tatum, chains §2.2 in docs/architecture.md): `serializedTransaction`
 * is a base64 TransactionEnvelope XDR with no signature; the signer adds one ed25519
 * DecoratedSignature over sha256(networkId ‖ ENVELOPE_TYPE_TX ‖ tx) and returns the
 * envelope, base64, for POST /v3/xlm/broadcast.
 *
 * The network passphrase comes from the daemon's --testnet flag, as in Tatum KMS. Safer
 * than Tatum (which appends a signature to anything): an envelope that already carries a
 * signature is refused, and so is a transaction whose source account (or an operation's
 * source) is not the signing wallet's account. Only the operations Tatum's builder makes
 * are signed: payment, createAccount, changeTrust, one per transaction.
 */
import {
  Asset,
  FeeBumpTransaction,
  Networks,
  StrKey,
  TransactionBuilder,
  xdr,
  type Operation,
  type Transaction,
} from '@stellar/stellar-base';
import { mismatchError, payloadError, unsupportedError, type DecodedTx } from '../decoded.js';
import { signEd25519Checked, type Ed25519Signer } from '../ed25519/signer.js';

const CHAIN = 'XLM';
const B64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

function xlmPassphrase(testnet: boolean): string {
  return testnet ? Networks.TESTNET : Networks.PUBLIC;
}

function parse(payload: unknown, testnet: boolean): Transaction {
  if (typeof payload !== 'string' || !B64_RE.test(payload.trim()))
    throw payloadError(CHAIN, 'serializedTransaction must be a base64 TransactionEnvelope XDR');
  let tx: Transaction | FeeBumpTransaction;
  try {
    tx = TransactionBuilder.fromXDR(payload.trim(), xlmPassphrase(testnet));
  } catch {
    throw payloadError(CHAIN, 'serializedTransaction is not a TransactionEnvelope XDR');
  }
  if (tx instanceof FeeBumpTransaction)
    throw unsupportedError(CHAIN, 'fee-bump envelopes are not signed (Tatum builds plain transactions)');
  if (tx.signatures.length > 0) {
    throw unsupportedError(
      CHAIN,
      `the envelope already carries ${tx.signatures.length} signature(s); hardkms signs only unsigned envelopes (Tatum KMS would append another)`,
    );
  }
  if (tx.operations.length !== 1)
    throw unsupportedError(CHAIN, `expected exactly one operation, got ${tx.operations.length}`);
  for (const op of tx.operations) {
    if (op.source !== undefined && op.source !== tx.source) {
      throw mismatchError(
        CHAIN,
        `operation source ${op.source} differs from the transaction source ${tx.source}: it would act for another account`,
      );
    }
  }
  return tx;
}

/** Decimal amount with at most 7 places (Stellar's unit) → stroops. */
function stroops(field: string, amount: string): bigint {
  const m = /^([0-9]+)(?:\.([0-9]{1,7}))?$/.exec(amount);
  if (!m) throw payloadError(CHAIN, `${field} is not a decimal amount`);
  return BigInt(m[1]!) * 10_000_000n + BigInt((m[2] ?? '').padEnd(7, '0'));
}

function assetId(asset: Asset): string {
  return asset.isNative() ? 'native' : `${asset.getCode()}:${asset.getIssuer()}`;
}

/** What the transaction moves, for the policy: amounts in stroops, issued assets as CODE:ISSUER tokens. */
export function decodeXlm(payload: unknown, testnet: boolean): DecodedTx {
  const tx = parse(payload, testnet);
  const op = tx.operations[0] as Operation;
  const decoded: DecodedTx = { chain: CHAIN, outputs: [], fee: BigInt(tx.fee) };
  switch (op.type) {
    case 'payment':
      if (op.asset.isNative())
        decoded.outputs.push({ address: op.destination, amount: stroops('payment.amount', op.amount) });
      else
        decoded.token = {
          contract: assetId(op.asset),
          standard: 'XLM_ASSET',
          to: op.destination,
          amount: stroops('payment.amount', op.amount),
        };
      break;
    case 'createAccount':
      decoded.outputs.push({
        address: op.destination,
        amount: stroops('createAccount.startingBalance', op.startingBalance),
      });
      break;
    case 'changeTrust':
      // A trustline moves nothing; it lets the account hold the asset.
      break;
    default:
      throw unsupportedError(
        CHAIN,
        `operation ${op.type} is not signed (hardkms signs payment, createAccount and changeTrust, as Tatum builds them)`,
      );
  }
  return decoded;
}

/** Signs with the first (only) wallet: it must own the source account. Returns the signed envelope, base64. */
export async function signXlm(payload: unknown, signers: readonly Ed25519Signer[], testnet: boolean): Promise<string> {
  const tx = parse(payload, testnet);
  const signer = signers[0];
  if (signer === undefined) throw mismatchError(CHAIN, 'no key to sign with');
  const account = StrKey.encodeEd25519PublicKey(Buffer.from(signer.publicKey));
  if (account !== tx.source) {
    throw mismatchError(
      CHAIN,
      `the source account ${tx.source} is not the signing wallet's account ${account}; refusing to sign (Tatum KMS would add a useless signature)`,
    );
  }
  const sig = await signEd25519Checked(signer, tx.hash());
  // addSignature checks the signature against the account again, with Stellar's own code.
  tx.addSignature(account, Buffer.from(sig).toString('base64'));
  return tx.toEnvelope().toXDR('base64');
}

/** Why a journaled envelope is not a signed form of the payload's transaction, or undefined (re-broadcast check). */
export function xlmEnvelopeMismatch(payload: unknown, signedXdr: string): string | undefined {
  if (typeof payload !== 'string') return 'the payload is not an XDR string';
  const body = (b64: string): string => {
    const env = xdr.TransactionEnvelope.fromXDR(b64.trim(), 'base64');
    if (env.switch() !== xdr.EnvelopeType.envelopeTypeTx()) throw new Error('not a v1 transaction envelope');
    return env.v1().tx().toXDR('base64');
  };
  return body(payload) === body(signedXdr) ? undefined : 'the transaction body differs';
}
