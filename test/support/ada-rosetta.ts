/**
 * FAKE of Cardano Rosetta's construction API (what Tatum's
 * /v3/blockchain/node/{cardano-mainnet|cardano-preprod}/{apiKey}/construction/… proxies to):
 * a test fake because no Cardano node runs here. It follows the Rosetta API and the Cardano
 * Foundation's cardano-rosetta server:
 * - every request carries `network_identifier` {blockchain: "cardano", network}; another
 *   network is Rosetta error 4002 ("Network not found"), HTTP 500 with {code, message, retriable};
 * - preprocess {operations, metadata: {relative_ttl}} → {options: {relative_ttl, transaction_size}};
 * - metadata {options} → {metadata: {ttl, protocol_parameters}, suggested_fee: [{value, currency}]}
 *   (ttl = tip slot + relative_ttl; fee = minFeeA × size + minFeeB);
 * - payloads {operations, metadata: {ttl}} → {unsigned_transaction, payloads}: the body built
 *   from the operations (inputs from coin identifiers, outputs in order, fee = inputs − outputs,
 *   ttl), the envelope CBOR [body hex, {operations}], one payload per distinct input address
 *   {account_identifier: {address}, hex_bytes: blake2b-256(body), signature_type: "ed25519"};
 * - combine {unsigned_transaction, signatures} → {signed_transaction}: the transaction with one
 *   vkey witness per signature, in the same envelope;
 * - derive {public_key: {hex_bytes, curve_type}, metadata: {address_type?}} →
 *   {account_identifier: {address}}: Enterprise by default, as the real server.
 * The transaction is built with @emurgo/cardano-serialization-lib, as the real server does.
 * `tamper` lets an attack test change an answer (a lying node).
 */
import C from '@emurgo/cardano-serialization-lib-nodejs';
import { blake2b } from '@noble/hashes/blake2b';

export type RosettaEndpoint = 'preprocess' | 'metadata' | 'payloads' | 'combine' | 'derive';

const MIN_FEE_A = 44;
const MIN_FEE_B = 155_381;

/** CBOR for the envelope's JSON values (text, numbers, arrays, maps, booleans, null). */
export function cborEncode(v: unknown): Buffer {
  const headOf = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (v === null || v === undefined) return Buffer.from([0xf6]);
  if (v === true) return Buffer.from([0xf5]);
  if (v === false) return Buffer.from([0xf4]);
  if (typeof v === 'number' && Number.isInteger(v)) return v >= 0 ? headOf(0, v) : headOf(1, -1 - v);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([headOf(3, s.length), s]);
  }
  if (Array.isArray(v)) return Buffer.concat([headOf(4, v.length), ...v.map(cborEncode)]);
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return Buffer.concat([headOf(5, entries.length), ...entries.flatMap(([k, x]) => [cborEncode(k), cborEncode(x)])]);
  }
  throw new Error(`cannot CBOR-encode ${typeof v}`);
}

/** The transaction hex of an envelope (the fake reads its own envelopes; hardkms has its own reader). */
function openEnvelope(hex: string): { tx: string; extra: unknown } {
  const b = Buffer.from(hex, 'hex');
  if (b[0] !== 0x82) throw new Error('not a 2-array');
  let pos = 1;
  const ib = b[pos]!;
  let len = ib & 0x1f;
  pos++;
  if (len === 24) len = b[pos++]!;
  else if (len === 25) {
    len = b.readUInt16BE(pos);
    pos += 2;
  } else if (len === 26) {
    len = b.readUInt32BE(pos);
    pos += 4;
  }
  return { tx: b.subarray(pos, pos + len).toString('latin1'), extra: null };
}

interface Op {
  type?: string;
  account?: { address?: string };
  amount?: { value?: string };
  coin_change?: { coin_identifier?: { identifier?: string } };
}

export class FakeCardanoRosetta {
  readonly requests: { endpoint: RosettaEndpoint; body: Record<string, unknown> }[] = [];
  /** The network this node serves: "preprod" (testnet daemons) or "mainnet". */
  network: 'preprod' | 'mainnet' = 'preprod';
  tipSlot = 50_000_000;
  tamper?: (
    endpoint: RosettaEndpoint,
    answer: Record<string, unknown>,
    body: Record<string, unknown>,
  ) => Record<string, unknown>;

  private error(code: number, message: string): { status: number; json: unknown } {
    return { status: 500, json: { code, message, retriable: false } };
  }

  handle(method: string, path: string, body: unknown): { status: number; json: unknown } {
    const m = /^\/construction\/(preprocess|metadata|payloads|combine|derive)$/.exec(path);
    if (method !== 'POST' || m === null)
      return { status: 404, json: { code: 404, message: `no route ${method} ${path}`, retriable: false } };
    const endpoint = m[1] as RosettaEndpoint;
    const b = (body ?? {}) as Record<string, unknown>;
    this.requests.push({ endpoint, body: b });
    const net = b.network_identifier as { blockchain?: unknown; network?: unknown } | undefined;
    if (net?.blockchain !== 'cardano' || net.network !== this.network) return this.error(4002, 'Network not found');
    let answer: Record<string, unknown>;
    try {
      answer = this[endpoint](b);
    } catch (e) {
      return this.error(5000, e instanceof Error ? e.message : String(e));
    }
    return { status: 200, json: this.tamper ? this.tamper(endpoint, answer, b) : answer };
  }

  private build(operations: Op[], ttl: number): { body: C.TransactionBody; addresses: string[] } {
    const inputs = C.TransactionInputs.new();
    const outputs = C.TransactionOutputs.new();
    const addresses: string[] = [];
    let sumIn = 0n;
    let sumOut = 0n;
    for (const op of operations) {
      const address = op.account?.address ?? '';
      const value = BigInt(op.amount?.value ?? 'x');
      if (op.type === 'input') {
        const [hash, index] = (op.coin_change?.coin_identifier?.identifier ?? '').split(':');
        inputs.add(C.TransactionInput.new(C.TransactionHash.from_hex(hash!), Number(index)));
        sumIn += -value;
        if (!addresses.includes(address)) addresses.push(address);
      } else if (op.type === 'output') {
        outputs.add(
          C.TransactionOutput.new(C.Address.from_bech32(address), C.Value.new(C.BigNum.from_str(value.toString()))),
        );
        sumOut += value;
      } else throw new Error(`Invalid operation type ${String(op.type)}`);
    }
    if (sumIn < sumOut) throw new Error('Outputs are bigger than inputs');
    return {
      body: C.TransactionBody.new(inputs, outputs, C.BigNum.from_str((sumIn - sumOut).toString()), ttl),
      addresses,
    };
  }

  private preprocess(b: Record<string, unknown>): Record<string, unknown> {
    const ttl = (b.metadata as { relative_ttl?: number } | undefined)?.relative_ttl ?? 1000;
    const { body } = this.build(b.operations as Op[], 0);
    // The body plus one vkey witness per input address (32 + 64 bytes and CBOR framing).
    return { options: { relative_ttl: ttl, transaction_size: body.to_bytes().length + 110 } };
  }

  private metadata(b: Record<string, unknown>): Record<string, unknown> {
    const options = b.options as { relative_ttl?: number; transaction_size?: number } | undefined;
    if (options?.relative_ttl === undefined || options.transaction_size === undefined)
      throw new Error('options are missing');
    const fee = MIN_FEE_A * options.transaction_size + MIN_FEE_B;
    return {
      metadata: {
        ttl: String(this.tipSlot + options.relative_ttl),
        protocol_parameters: {
          coinsPerUtxoSize: '4310',
          maxTxSize: 16384,
          maxValSize: 5000,
          keyDeposit: '2000000',
          maxCollateralInputs: 3,
          minFeeCoefficient: MIN_FEE_A,
          minFeeConstant: MIN_FEE_B,
          minPoolCost: '170000000',
          poolDeposit: '500000000',
          protocol: 8,
        },
      },
      suggested_fee: [{ value: String(fee), currency: { symbol: 'ADA', decimals: 6 } }],
    };
  }

  private payloads(b: Record<string, unknown>): Record<string, unknown> {
    const ttl = Number.parseInt(String((b.metadata as { ttl?: unknown } | undefined)?.ttl));
    const { body, addresses } = this.build(b.operations as Op[], ttl);
    const hash = Buffer.from(blake2b(body.to_bytes(), { dkLen: 32 })).toString('hex');
    return {
      unsigned_transaction: cborEncode([body.to_hex(), { operations: [] }]).toString('hex'),
      payloads: addresses.map((address) => ({
        account_identifier: { address },
        hex_bytes: hash,
        signature_type: 'ed25519',
      })),
    };
  }

  private combine(b: Record<string, unknown>): Record<string, unknown> {
    const { tx } = openEnvelope(String(b.unsigned_transaction));
    const body = C.TransactionBody.from_hex(tx);
    const vkeys = C.Vkeywitnesses.new();
    for (const s of b.signatures as { public_key: { hex_bytes: string }; hex_bytes: string }[]) {
      vkeys.add(
        C.Vkeywitness.new(
          C.Vkey.new(C.PublicKey.from_hex(s.public_key.hex_bytes)),
          C.Ed25519Signature.from_hex(s.hex_bytes),
        ),
      );
    }
    const ws = C.TransactionWitnessSet.new();
    ws.set_vkeys(vkeys);
    const signed = C.Transaction.new(body, ws, undefined);
    return { signed_transaction: cborEncode([signed.to_hex(), { operations: [] }]).toString('hex') };
  }

  private derive(b: Record<string, unknown>): Record<string, unknown> {
    const pk = b.public_key as { hex_bytes?: string; curve_type?: string } | undefined;
    if (typeof pk?.hex_bytes !== 'string' || pk.hex_bytes.length !== 64 || pk.curve_type !== 'edwards25519')
      throw new Error('Invalid public key format');
    const type = (b.metadata as { address_type?: string } | undefined)?.address_type ?? 'Enterprise';
    if (type !== 'Enterprise') throw new Error(`the fake derives Enterprise addresses only, not ${type}`);
    const cred = C.Credential.from_keyhash(C.PublicKey.from_hex(pk.hex_bytes).hash());
    const address = C.EnterpriseAddress.new(this.network === 'mainnet' ? 1 : 0, cred)
      .to_address()
      .to_bech32(undefined);
    return { account_identifier: { address } };
  }
}

/** The signed transaction inside a `signed_transaction` envelope, decoded by the ecosystem's library (tests). */
export function decodeSignedEnvelope(envelopeHex: string): C.FixedTransaction {
  return C.FixedTransaction.from_hex(openEnvelope(envelopeHex).tx);
}
