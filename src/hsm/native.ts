import { createRequire } from 'node:module';
import { HardkmsError } from '../errors.js';

/**
 * The few PKCS#11 calls pkcs11js 2.1.7 cannot make, called through koffi (FFI) on the same
 * module pkcs11js loaded. dlopen of the same path returns the same library instance, so
 * sessions and object handles are shared with pkcs11js.
 *
 * - pkcs11js accepts only flat attribute values, so it cannot pass CKA_UNWRAP_TEMPLATE
 *   (an attribute whose value is itself an attribute array).
 * - pkcs11js takes the PIN of C_Login / C_SetPIN as a JS string, which cannot be wiped;
 *   here it goes from a Buffer straight into the module.
 *
 * Structures are laid out by hand for LP64 Unix (CK_ULONG and pointers 8 bytes, natural
 * alignment), the only ABI hardkms runs on; anything else is refused at load.
 */
interface KoffiLib {
  func(definition: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
  address(value: unknown): bigint;
  sizeof(type: string): number;
}

const require = createRequire(import.meta.url);
const ULONG = 8;
const ATTR = 3 * ULONG;

const CKA_UNWRAP_TEMPLATE = 0x40000212;

/** The attributes every key unwrapped by a hardkms wrap key must have (and so cannot change). */
export interface BoolAttribute {
  type: number;
  value: boolean;
}
export type FlatAttribute =
  { type: number; value: number | boolean | Buffer } | { type: number; template: BoolAttribute[] };

interface Functions {
  generateKey: (...args: unknown[]) => unknown;
  getAttributeValue: (...args: unknown[]) => unknown;
  login: (...args: unknown[]) => unknown;
  setPin: (...args: unknown[]) => unknown;
}

let koffi: Koffi | undefined;
const libraries = new Map<string, Functions>();

function functions(modulePath: string): Functions {
  const cached = libraries.get(modulePath);
  if (cached) return cached;
  koffi ??= require('koffi') as Koffi;
  if (process.platform === 'win32' || koffi.sizeof('unsigned long') !== ULONG || koffi.sizeof('void *') !== ULONG) {
    throw new HardkmsError(
      'HSM_PLATFORM_UNSUPPORTED',
      'hardkms sets PKCS#11 attribute templates only on 64-bit Linux and macOS.',
      {
        hint: 'Run hardkms on a 64-bit Unix host.',
      },
    );
  }
  const lib = koffi.load(modulePath);
  const fns: Functions = {
    generateKey: lib.func('unsigned long C_GenerateKey(unsigned long, void *, void *, unsigned long, _Out_ void *)'),
    getAttributeValue: lib.func(
      'unsigned long C_GetAttributeValue(unsigned long, unsigned long, _Inout_ void *, unsigned long)',
    ),
    login: lib.func('unsigned long C_Login(unsigned long, unsigned long, void *, unsigned long)'),
    setPin: lib.func('unsigned long C_SetPIN(unsigned long, void *, unsigned long, void *, unsigned long)'),
  };
  libraries.set(modulePath, fns);
  return fns;
}

/** Thrown like pkcs11js's errors ({ code }), so pkcs11-errors.ts explains both the same way. */
class NativeError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
  ) {
    super(`${method} failed: CKR 0x${code.toString(16)}`);
  }
}

function check(method: string, rv: unknown): void {
  const code = Number(rv);
  if (code !== 0) throw new NativeError(method, code);
}

function ulong(v: number): Buffer {
  const b = Buffer.alloc(ULONG);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

function handleOf(b: Buffer): bigint {
  return b.readBigUInt64LE(0);
}

/** Encodes a template; `keep` holds every value buffer alive until the call returns. */
function encodeTemplate(attrs: readonly FlatAttribute[], keep: Buffer[]): Buffer {
  const array = Buffer.alloc(ATTR * attrs.length);
  attrs.forEach((a, i) => {
    let value: Buffer;
    if ('template' in a) value = encodeTemplate(a.template, keep);
    else if (typeof a.value === 'boolean') value = Buffer.from([a.value ? 1 : 0]);
    else if (typeof a.value === 'number') value = ulong(a.value);
    else value = a.value;
    keep.push(value);
    array.writeBigUInt64LE(BigInt(a.type), i * ATTR);
    array.writeBigUInt64LE(value.length ? koffi!.address(value) : 0n, i * ATTR + ULONG);
    array.writeBigUInt64LE(BigInt(value.length), i * ATTR + 2 * ULONG);
  });
  keep.push(array);
  return array;
}

/** C_GenerateKey with a template that may hold nested templates; returns the handle as pkcs11js does. */
export function generateKeyWithTemplate(
  modulePath: string,
  session: Buffer,
  mechanism: number,
  attrs: readonly FlatAttribute[],
): Buffer {
  const fns = functions(modulePath);
  const keep: Buffer[] = [];
  const template = encodeTemplate(attrs, keep);
  const mech = Buffer.alloc(3 * ULONG);
  mech.writeBigUInt64LE(BigInt(mechanism), 0);
  const out = Buffer.alloc(ULONG);
  check('C_GenerateKey', fns.generateKey(handleOf(session), mech, template, attrs.length, out));
  keep.length = 0;
  return out;
}

/**
 * Reads an object's CKA_UNWRAP_TEMPLATE as boolean attributes; undefined when the key has
 * none. Non-boolean entries are returned with value true when non-zero (we only set booleans).
 */
export function readUnwrapTemplate(modulePath: string, session: Buffer, object: Buffer): BoolAttribute[] | undefined {
  const fns = functions(modulePath);
  const outer = Buffer.alloc(ATTR);
  outer.writeBigUInt64LE(BigInt(CKA_UNWRAP_TEMPLATE), 0);
  const rv = Number(fns.getAttributeValue(handleOf(session), handleOf(object), outer, 1));
  const len = Number(outer.readBigUInt64LE(2 * ULONG));
  // CKR_ATTRIBUTE_TYPE_INVALID (0x12) or an empty template: the key has none.
  if (rv === 0x12 || len === 0 || len === Number(0xffffffffffffffffn)) return undefined;
  check('C_GetAttributeValue', rv);
  const count = Math.floor(len / ATTR);
  const inner = Buffer.alloc(count * ATTR);
  const values: Buffer[] = [];
  // First ask the sizes of the inner values, then give each a buffer.
  outer.writeBigUInt64LE(koffi!.address(inner), ULONG);
  check('C_GetAttributeValue', fns.getAttributeValue(handleOf(session), handleOf(object), outer, 1));
  for (let i = 0; i < count; i++) {
    const size = Number(inner.readBigUInt64LE(i * ATTR + 2 * ULONG));
    const v = Buffer.alloc(Math.max(size, 1));
    values.push(v);
    inner.writeBigUInt64LE(koffi!.address(v), i * ATTR + ULONG);
  }
  check('C_GetAttributeValue', fns.getAttributeValue(handleOf(session), handleOf(object), outer, 1));
  return values.map((v, i) => ({ type: Number(inner.readBigUInt64LE(i * ATTR)), value: v.some((b) => b !== 0) }));
}

/** C_Login with the PIN as bytes: no JS string of it is ever made. */
export function loginWithBuffer(modulePath: string, session: Buffer, userType: number, pin: Buffer): void {
  const fns = functions(modulePath);
  check('C_Login', fns.login(handleOf(session), userType, pin.length ? pin : null, pin.length));
}

/** C_SetPIN with both PINs as bytes. */
export function setPinWithBuffers(modulePath: string, session: Buffer, oldPin: Buffer, newPin: Buffer): void {
  const fns = functions(modulePath);
  check('C_SetPIN', fns.setPin(handleOf(session), oldPin, oldPin.length, newPin, newPin.length));
}
