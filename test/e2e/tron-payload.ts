/**
 * An unsigned TronWeb TransferContract transaction, built here from first principles
 * (protobuf by hand, txID = sha256(raw_data_hex)), so tests do not trust the code under test.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { fBytes, fVarint } from '../support/protobuf-writer.js';

const hex = (b: Uint8Array | number[]) => Buffer.from(Uint8Array.from(b)).toString('hex');

export function tronAddress(pub33: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.ProjectivePoint.fromHex(pub33).toRawBytes(false);
  return Uint8Array.from([0x41, ...keccak_256(uncompressed.subarray(1)).subarray(12)]);
}

export const TRON_RECIPIENT = Uint8Array.from(Buffer.from('41' + '42'.repeat(20), 'hex'));

export function tronPayload(
  ownerPub: Uint8Array,
  amount: number,
  to: Uint8Array = TRON_RECIPIENT,
): Record<string, unknown> {
  const owner = tronAddress(ownerPub);
  const refBytes = [0x4f, 0x2a];
  const refHash = [1, 2, 3, 4, 5, 6, 7, 8];
  const expiration = 1_700_000_060_000;
  const timestamp = 1_700_000_000_000;
  const value = [...fBytes(1, owner), ...fBytes(2, to), ...fVarint(3, amount)];
  const any = [...fBytes(1, [...Buffer.from('type.googleapis.com/protocol.TransferContract')]), ...fBytes(2, value)];
  const contract = [...fVarint(1, 1), ...fBytes(2, any)];
  const raw = [
    ...fBytes(1, refBytes),
    ...fBytes(4, refHash),
    ...fVarint(8, expiration),
    ...fBytes(11, contract),
    ...fVarint(14, timestamp),
  ];
  const rawHex = hex(raw);
  return {
    visible: false,
    txID: createHash('sha256').update(Buffer.from(rawHex, 'hex')).digest('hex'),
    raw_data: {
      contract: [
        {
          parameter: {
            value: { amount, owner_address: hex(owner), to_address: hex(to) },
            type_url: 'type.googleapis.com/protocol.TransferContract',
          },
          type: 'TransferContract',
        },
      ],
      ref_block_bytes: hex(refBytes),
      ref_block_hash: hex(refHash),
      expiration,
      timestamp,
    },
    raw_data_hex: rawHex,
  };
}
