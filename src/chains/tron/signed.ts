/**
 * A TRON transaction read back as JSON text: the signed one a journal row holds (for its
 * txID when the API answers none, and for the re-broadcast check) and the unsigned payload
 * it is compared with. One schema of the fields those two read; other fields are kept and
 * not judged here (signTron judged the payload before signing).
 *
 * A row's text is never repeated in a reason: V8's JSON.parse message quotes the start of
 * the text, so a syntax error is reported as its line and column only (validate.ts).
 */
import { check, expecting, jsonSyntaxPlace, looseJsonObject, v } from '../../validate.js';

const rawDataHex = v.pipe(
  v.string(expecting('a hex string')),
  v.regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected non-empty, even-length hex (the transaction protobuf)'),
);

/** The field of a TRON transaction JSON the re-broadcast check compares. */
const tronTransaction = looseJsonObject({ raw_data_hex: rawDataHex }, 'a TRON transaction (JSON object)');

/** The txID a signed transaction names for itself (sha256 of raw_data_hex, as signTron journals it). */
const withTxId = looseJsonObject({ txID: v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/)) });

type TronTransaction = v.InferOutput<typeof tronTransaction>;

/** The transaction `text` holds, or why it holds none ("the signed transaction is not valid JSON (line 1, column 9)"). */
function readTron(text: string, what: string): TronTransaction | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const place = jsonSyntaxPlace(text, e);
    return `${what} is not valid JSON${place === undefined ? '' : ` (${place})`}`;
  }
  const r = check(tronTransaction, json);
  return r.ok ? r.value : `${what} is not a TRON transaction (${r.text})`;
}

/** txID of a signed TRON transaction (lowercase hex), or undefined when it has none that is 32 bytes of hex. */
export function tronTxIdOf(signedJson: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(signedJson);
  } catch {
    return undefined;
  }
  const r = check(withTxId, json);
  return r.ok ? r.value.txID.toLowerCase() : undefined;
}

/**
 * Why a journaled signed TRON transaction is not the payload's, or undefined (the
 * re-broadcast check): what is signed is sha256(raw_data_hex), so the two must carry the
 * same raw_data_hex (letter case aside).
 */
export function tronSignedMismatch(payload: string, signedJson: string): string | undefined {
  const signed = readTron(signedJson, 'the signed transaction');
  if (typeof signed === 'string') return signed;
  const unsigned = readTron(payload, 'the payload');
  if (typeof unsigned === 'string') return unsigned;
  return signed.raw_data_hex.toLowerCase() === unsigned.raw_data_hex.toLowerCase() ? undefined : 'raw_data_hex differs';
}
