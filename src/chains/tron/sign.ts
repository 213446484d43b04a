import { sha256 } from '@noble/hashes/sha256';
import { decodeBase58 } from 'ethers/utils';
import { HardkmsError } from '../../errors.js';
import {
  SIGNER_MISSING,
  bytesEqual,
  kindOf,
  hexField,
  isPlainObject,
  mismatchError,
  parseJsonPayload,
  payloadError,
  toHex,
  uintField,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { tronAddressBytes, tronBase58 } from './address.js';
import { signDigestChecked, uniqueSigners, type DigestSigner } from '../digest-signer.js';
import { asInt64, getBytes, getRepeatedBytes, getVarint, readMessage } from './protobuf.js';

/**
 * TRON pending transactions (spec §3.6): an unsigned TronWeb transaction JSON. What gets
 * signed is txID = sha256(raw_data_hex), so everything we check and decode comes from
 * raw_data_hex; the raw_data JSON (which the node re-encodes on broadcast) must agree with it.
 */

const CHAIN = 'TRON';

type TronContract =
  | { type: 'TransferContract'; owner: Uint8Array; to: Uint8Array; amount: bigint }
  | { type: 'TransferAssetContract'; owner: Uint8Array; to: Uint8Array; assetName: Uint8Array; amount: bigint }
  | { type: 'TriggerSmartContract'; owner: Uint8Array; contract: Uint8Array; callValue: bigint; data: Uint8Array }
  /** Stake 2.0 (what Tatum's TRON builders emit for freeze/unfreeze): resource 0 BANDWIDTH, 1 ENERGY, 2 TRON_POWER. */
  | {
      type: 'FreezeBalanceV2Contract' | 'UnfreezeBalanceV2Contract';
      owner: Uint8Array;
      amount: bigint;
      resource: number;
    }
  | {
      type: 'DelegateResourceContract';
      owner: Uint8Array;
      resource: number;
      amount: bigint;
      receiver: Uint8Array;
      lock: boolean;
      lockPeriod: bigint;
    }
  | { type: 'UnDelegateResourceContract'; owner: Uint8Array; resource: number; amount: bigint; receiver: Uint8Array }
  /** TRC-20/721 deploys: the bytecode and the TRX sent to the constructor. */
  | { type: 'CreateSmartContract'; owner: Uint8Array; bytecode: Uint8Array; callValue: bigint; name: Uint8Array }
  /** TRC-10 issuance. */
  | {
      type: 'AssetIssueContract';
      owner: Uint8Array;
      name: Uint8Array;
      abbr: Uint8Array;
      totalSupply: bigint;
      precision: bigint;
    };

const RESOURCES = ['BANDWIDTH', 'ENERGY', 'TRON_POWER'];

interface TronRaw {
  refBlockBytes: Uint8Array;
  refBlockHash: Uint8Array;
  expiration: bigint;
  timestamp: bigint;
  feeLimit: bigint;
  data: Uint8Array;
  contract: TronContract;
}

interface TronPayload {
  txID: string;
  raw: TronRaw;
  /** The payload as JSON text, to which the signature is appended verbatim. */
  text: string;
}

const CONTRACT_TYPES: Record<number, TronContract['type']> = {
  1: 'TransferContract',
  2: 'TransferAssetContract',
  6: 'AssetIssueContract',
  30: 'CreateSmartContract',
  31: 'TriggerSmartContract',
  54: 'FreezeBalanceV2Contract',
  55: 'UnfreezeBalanceV2Contract',
  57: 'DelegateResourceContract',
  58: 'UnDelegateResourceContract',
};
const SUPPORTED = Object.values(CONTRACT_TYPES).join(', ');

function parseTronPayload(payload: unknown): TronPayload {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const o = parseJsonPayload(CHAIN, text);
  if (o.signature !== undefined)
    throw unsupportedError(
      CHAIN,
      'the transaction already carries a signature field; only unsigned transactions are signed',
    );
  const txID = toHex(hexField(CHAIN, 'txID', o.txID, { length: 32 }));
  const rawBytes = hexField(CHAIN, 'raw_data_hex', o.raw_data_hex);
  if (rawBytes.length === 0) throw payloadError(CHAIN, 'raw_data_hex is empty');
  const computed = toHex(sha256(rawBytes));
  if (computed !== txID)
    throw mismatchError(
      CHAIN,
      `txID ${txID} is not sha256(raw_data_hex) (${computed})`,
      'The payload was altered or built by an incompatible tool; it was not signed.',
    );
  if (o.visible !== undefined && typeof o.visible !== 'boolean')
    throw payloadError(CHAIN, 'visible must be true or false');
  const raw = decodeRaw(rawBytes);
  if (!isPlainObject(o.raw_data)) throw payloadError(CHAIN, 'raw_data is missing (the node broadcasts from it)');
  checkRawDataJson(o.raw_data, raw);
  return { txID, raw, text };
}

function decodeRaw(bytes: Uint8Array): TronRaw {
  const m = readMessage(bytes, 'Transaction.raw');
  const contracts = getRepeatedBytes(m, 11, 'contract');
  if (contracts.length !== 1)
    throw unsupportedError(CHAIN, `raw_data_hex has ${contracts.length} contracts; exactly one is signed`);
  if ((m.get(9) ?? []).length > 0) throw unsupportedError(CHAIN, 'raw_data_hex carries auths, which are not supported');
  const c = readMessage(contracts[0]!, 'Contract');
  const typeNum = Number(getVarint(c, 1, 'Contract.type'));
  const type = CONTRACT_TYPES[typeNum];
  if (type === undefined)
    throw unsupportedError(CHAIN, `contract type ${typeNum} is not signed (supported: ${SUPPORTED})`);
  if (getVarint(c, 5, 'Contract.Permission_id') !== 0n)
    throw unsupportedError(CHAIN, 'Permission_id is not 0: multi-signature permissions are not supported');
  const any = readMessage(getBytes(c, 2, 'Contract.parameter'), 'Contract.parameter');
  const typeUrl = Buffer.from(getBytes(any, 1, 'parameter.type_url')).toString('utf8');
  if (typeUrl !== `type.googleapis.com/protocol.${type}`)
    throw mismatchError(CHAIN, `contract parameter type_url does not match contract type ${type}`);
  const v = readMessage(getBytes(any, 2, 'parameter.value'), type);
  const addr = (field: number, name: string): Uint8Array => {
    const a = getBytes(v, field, `${type}.${name}`);
    if (a.length !== 21 || a[0] !== 0x41) throw payloadError(CHAIN, `${type}.${name} is not a 21-byte TRON address`);
    return a;
  };
  const amount = (field: number, name: string): bigint => {
    const n = asInt64(getVarint(v, field, `${type}.${name}`));
    if (n < 0n) throw payloadError(CHAIN, `${type}.${name} is negative`);
    return n;
  };
  const resource = (field: number): number => {
    const r = Number(getVarint(v, field, `${type}.resource`));
    if (RESOURCES[r] === undefined)
      throw payloadError(CHAIN, `${type}.resource ${r} is not BANDWIDTH, ENERGY or TRON_POWER`);
    return r;
  };
  let contract: TronContract;
  if (type === 'FreezeBalanceV2Contract') {
    contract = { type, owner: addr(1, 'owner_address'), amount: amount(2, 'frozen_balance'), resource: resource(3) };
  } else if (type === 'UnfreezeBalanceV2Contract') {
    contract = { type, owner: addr(1, 'owner_address'), amount: amount(2, 'unfreeze_balance'), resource: resource(3) };
  } else if (type === 'DelegateResourceContract') {
    contract = {
      type,
      owner: addr(1, 'owner_address'),
      resource: resource(2),
      amount: amount(3, 'balance'),
      receiver: addr(4, 'receiver_address'),
      lock: getVarint(v, 5, 'lock') !== 0n,
      lockPeriod: amount(6, 'lock_period'),
    };
  } else if (type === 'UnDelegateResourceContract') {
    contract = {
      type,
      owner: addr(1, 'owner_address'),
      resource: resource(2),
      amount: amount(3, 'balance'),
      receiver: addr(4, 'receiver_address'),
    };
  } else if (type === 'CreateSmartContract') {
    if (getVarint(v, 3, 'call_token_value') !== 0n || getVarint(v, 4, 'token_id') !== 0n) {
      throw unsupportedError(
        CHAIN,
        'CreateSmartContract sends TRC-10 tokens to the constructor (call_token_value/token_id), which is not supported',
      );
    }
    const sc = readMessage(getBytes(v, 2, 'new_contract'), 'SmartContract');
    const owner = addr(1, 'owner_address');
    const origin = getBytes(sc, 1, 'new_contract.origin_address');
    if (origin.length !== 0 && !bytesEqual(origin, owner))
      throw mismatchError(CHAIN, 'new_contract.origin_address is not owner_address');
    const callValue = asInt64(getVarint(sc, 5, 'new_contract.call_value'));
    if (callValue < 0n) throw payloadError(CHAIN, 'new_contract.call_value is negative');
    contract = {
      type,
      owner,
      bytecode: getBytes(sc, 4, 'new_contract.bytecode'),
      callValue,
      name: getBytes(sc, 7, 'new_contract.name'),
    };
  } else if (type === 'AssetIssueContract') {
    contract = {
      type,
      owner: addr(1, 'owner_address'),
      name: getBytes(v, 2, 'name'),
      abbr: getBytes(v, 3, 'abbr'),
      totalSupply: amount(4, 'total_supply'),
      precision: amount(7, 'precision'),
    };
  } else if (type === 'TransferContract') {
    contract = { type, owner: addr(1, 'owner_address'), to: addr(2, 'to_address'), amount: amount(3, 'amount') };
  } else if (type === 'TransferAssetContract') {
    contract = {
      type,
      assetName: getBytes(v, 1, 'asset_name'),
      owner: addr(2, 'owner_address'),
      to: addr(3, 'to_address'),
      amount: amount(4, 'amount'),
    };
  } else {
    if (getVarint(v, 5, 'call_token_value') !== 0n || getVarint(v, 6, 'token_id') !== 0n) {
      throw unsupportedError(
        CHAIN,
        'TriggerSmartContract sends TRC-10 tokens with the call (call_token_value/token_id), which is not supported',
      );
    }
    contract = {
      type,
      owner: addr(1, 'owner_address'),
      contract: addr(2, 'contract_address'),
      callValue: amount(3, 'call_value'),
      data: getBytes(v, 4, 'data'),
    };
  }
  return {
    refBlockBytes: getBytes(m, 1, 'ref_block_bytes'),
    refBlockHash: getBytes(m, 4, 'ref_block_hash'),
    expiration: asInt64(getVarint(m, 8, 'expiration')),
    timestamp: asInt64(getVarint(m, 14, 'timestamp')),
    feeLimit: asInt64(getVarint(m, 18, 'fee_limit')),
    data: getBytes(m, 10, 'data'),
    contract,
  };
}

/** raw_data JSON vs raw_data_hex, field by field; an absent JSON field must be protobuf's default. */
function checkRawDataJson(j: Record<string, unknown>, raw: TronRaw): void {
  const diff = (field: string): never => {
    throw mismatchError(
      CHAIN,
      `raw_data.${field} does not match raw_data_hex`,
      'The JSON the node would broadcast differs from the bytes that would be signed; it was not signed.',
    );
  };
  const hexEq = (field: string, v: unknown, expected: Uint8Array): void => {
    if (v === undefined || v === null) {
      if (expected.length !== 0) diff(field);
      return;
    }
    if (!bytesEqual(hexField(CHAIN, `raw_data.${field}`, v), expected)) diff(field);
  };
  const numEq = (field: string, v: unknown, expected: bigint): void => {
    const n = v === undefined || v === null ? 0n : uintField(CHAIN, `raw_data.${field}`, v);
    if (n !== expected) diff(field);
  };
  const addrEq = (field: string, v: unknown, expected: Uint8Array): void => {
    if (!bytesEqual(parseTronAddress(`raw_data.${field}`, v), expected)) diff(field);
  };

  hexEq('ref_block_bytes', j.ref_block_bytes, raw.refBlockBytes);
  hexEq('ref_block_hash', j.ref_block_hash, raw.refBlockHash);
  hexEq('data', j.data, raw.data);
  numEq('expiration', j.expiration, raw.expiration);
  numEq('timestamp', j.timestamp, raw.timestamp);
  numEq('fee_limit', j.fee_limit, raw.feeLimit);

  const contracts: unknown = j.contract;
  const c: unknown = Array.isArray(contracts) && contracts.length === 1 ? contracts[0] : undefined;
  if (!isPlainObject(c)) return diff('contract');
  if (c.type !== raw.contract.type) diff('contract[0].type');
  const param = c.parameter;
  if (!isPlainObject(param) || !isPlainObject(param.value)) return diff('contract[0].parameter.value');
  const v = param.value;
  const k = raw.contract;
  addrEq('contract[0].parameter.value.owner_address', v.owner_address, k.owner);
  if (k.type === 'TransferContract' || k.type === 'TransferAssetContract') {
    addrEq('contract[0].parameter.value.to_address', v.to_address, k.to);
    numEq('contract[0].parameter.value.amount', v.amount, k.amount);
  }
  if (k.type === 'TransferAssetContract') {
    // visible=true renders asset_name as text, otherwise as hex
    const name = v.asset_name;
    const ok =
      typeof name === 'string' &&
      (Buffer.from(k.assetName).toString('utf8') === name ||
        (/^([0-9a-fA-F]{2})+$/.test(name) && bytesEqual(Buffer.from(name, 'hex'), k.assetName)));
    if (!ok) diff('contract[0].parameter.value.asset_name');
  }
  const resourceEq = (field: string, value: unknown, expected: number): void => {
    // TronWeb writes the enum by name; an absent field is protobuf's default (BANDWIDTH).
    const r = value === undefined || value === null ? 0 : typeof value === 'string' ? RESOURCES.indexOf(value) : -1;
    if (r !== expected) diff(field);
  };
  const P = 'contract[0].parameter.value';
  if (k.type === 'FreezeBalanceV2Contract' || k.type === 'UnfreezeBalanceV2Contract') {
    numEq(
      `${P}.${k.type === 'FreezeBalanceV2Contract' ? 'frozen_balance' : 'unfreeze_balance'}`,
      k.type === 'FreezeBalanceV2Contract' ? v.frozen_balance : v.unfreeze_balance,
      k.amount,
    );
    resourceEq(`${P}.resource`, v.resource, k.resource);
  }
  if (k.type === 'DelegateResourceContract' || k.type === 'UnDelegateResourceContract') {
    numEq(`${P}.balance`, v.balance, k.amount);
    resourceEq(`${P}.resource`, v.resource, k.resource);
    addrEq(`${P}.receiver_address`, v.receiver_address, k.receiver);
    if (k.type === 'DelegateResourceContract') {
      if ((v.lock === true) !== k.lock) diff(`${P}.lock`);
      numEq(`${P}.lock_period`, v.lock_period, k.lockPeriod);
    }
  }
  if (k.type === 'CreateSmartContract') {
    const nc = v.new_contract;
    if (!isPlainObject(nc)) return diff(`${P}.new_contract`);
    hexEq(`${P}.new_contract.bytecode`, nc.bytecode, k.bytecode);
    numEq(`${P}.new_contract.call_value`, nc.call_value, k.callValue);
  }
  if (k.type === 'AssetIssueContract') {
    numEq(`${P}.total_supply`, v.total_supply, k.totalSupply);
    numEq(`${P}.precision`, v.precision, k.precision);
  }
  if (k.type === 'TriggerSmartContract') {
    addrEq('contract[0].parameter.value.contract_address', v.contract_address, k.contract);
    numEq('contract[0].parameter.value.call_value', v.call_value, k.callValue);
    hexEq('contract[0].parameter.value.data', v.data, k.data);
  }
}

/** Signs txID with the one resolved key; returns the payload JSON with `"signature":["<r‖s‖v hex>"]` appended. */
export async function signTron(payload: unknown, signers: readonly DigestSigner[]): Promise<string> {
  const p = parseTronPayload(payload);
  const keys = uniqueSigners(signers);
  if (keys.length !== 1) {
    throw new HardkmsError(SIGNER_MISSING, `TRON: expected exactly one signing key, got ${keys.length}`, {
      hint: 'TRON transactions are signed by the first wallet in hashes.',
    });
  }
  const signer = keys[0]!;
  const own = tronAddressBytes(signer.publicKey);
  if (!bytesEqual(own, p.raw.contract.owner)) {
    throw mismatchError(
      CHAIN,
      `owner_address ${tronBase58(p.raw.contract.owner)} is not the signing wallet's address ${tronBase58(own)}`,
      'The pending transaction names a different wallet than the key resolved for it; it was not signed.',
    );
  }
  const sig = await signDigestChecked(signer, hexField(CHAIN, 'txID', p.txID, { length: 32 }));
  const sigHex = toHex(sig.r) + toHex(sig.s) + (sig.recovery + 27).toString(16).padStart(2, '0');
  // Append to the original text rather than re-serialising: JSON.parse would round large
  // integers in raw_data, and the node re-encodes raw_data into the bytes it verifies.
  const trimmed = p.text.trimEnd();
  const close = trimmed.lastIndexOf('}');
  if (close !== trimmed.length - 1) throw payloadError(CHAIN, 'serializedTransaction does not end with "}"');
  return `${trimmed.slice(0, close).trimEnd()},"signature":["${sigHex}"]}`;
}

/**
 * What the transaction moves: TRX in `outputs`, a TRC-10 or TRC-20 `transfer` in `token`,
 * any other contract call in `call`. Addresses are base58 (T…). `fee` is fee_limit when set.
 */
export function decodeTron(payload: unknown): DecodedTx {
  const { raw } = parseTronPayload(payload);
  const k = raw.contract;
  const out: DecodedTx = { chain: CHAIN, outputs: [] };
  if (k.type === 'FreezeBalanceV2Contract' || k.type === 'UnfreezeBalanceV2Contract') {
    // The TRX stays the owner's, but is locked or released: counted as moved by the owner, for the limits.
    out.outputs.push({ address: tronBase58(k.owner), amount: k.amount });
  } else if (k.type === 'DelegateResourceContract' || k.type === 'UnDelegateResourceContract') {
    // The resources of `amount` staked sun go to (or come back from) the receiver.
    out.outputs.push({ address: tronBase58(k.receiver), amount: k.amount });
  } else if (k.type === 'CreateSmartContract') {
    if (k.callValue > 0n) out.outputs.push({ amount: k.callValue });
    out.call = { kind: 'deploy', dataLength: k.bytecode.length, data: toHex(k.bytecode) };
  } else if (k.type === 'AssetIssueContract') {
    // A TRC-10 issuance is a deployment for the policy (allowDeploy); its name is the payload.
    out.call = { kind: 'deploy', dataLength: Math.max(1, k.name.length) };
  } else if (k.type === 'TransferContract') {
    out.outputs.push({ address: tronBase58(k.to), amount: k.amount });
  } else if (k.type === 'TransferAssetContract') {
    out.token = {
      contract: Buffer.from(k.assetName).toString('utf8'),
      standard: 'TRC10',
      to: tronBase58(k.to),
      amount: k.amount,
    };
  } else if (k.type === 'TriggerSmartContract') {
    const contract = tronBase58(k.contract);
    if (k.callValue > 0n) out.outputs.push({ address: contract, amount: k.callValue });
    const data = toHex(k.data);
    const transfer = /^a9059cbb0{24}[0-9a-f]{40}[0-9a-f]{64}$/.test(data) ? data : undefined;
    if (transfer !== undefined) {
      const to = Uint8Array.from([0x41, ...Buffer.from(transfer.slice(32, 72), 'hex')]);
      out.token = { contract, standard: 'TRC20', to: tronBase58(to), amount: BigInt('0x' + transfer.slice(72)) };
    } else {
      out.call = { kind: 'call', to: contract, dataLength: k.data.length, data };
      if (k.data.length >= 4) out.call.selector = '0x' + data.slice(0, 8);
    }
  }
  if (raw.feeLimit > 0n) out.fee = raw.feeLimit;
  return out;
}

/** A TRON address as hex (41…, 21 bytes) or base58check (T…), to its 21 bytes. */
function parseTronAddress(field: string, v: unknown): Uint8Array {
  if (typeof v !== 'string') throw payloadError(CHAIN, `${field} must be an address string, got ${kindOf(v)}`);
  if (/^41[0-9a-fA-F]{40}$/.test(v)) return Uint8Array.from(Buffer.from(v, 'hex'));
  if (/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(v)) {
    const hex = decodeBase58(v).toString(16).padStart(50, '0');
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    if (
      bytes.length === 25 &&
      bytes[0] === 0x41 &&
      bytesEqual(sha256(sha256(bytes.subarray(0, 21))).subarray(0, 4), bytes.subarray(21))
    ) {
      return bytes.subarray(0, 21);
    }
  }
  throw payloadError(CHAIN, `${field} is not a valid TRON address`);
}
