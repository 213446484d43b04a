import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1';
import { payments } from 'bitcoinjs-lib';
import { ownScripts } from '../../src/signer/pipeline/key-resolution.js';
import { buildConfig } from '../../src/config/config.js';
import { getChainAdapter } from '../../src/chains/registry.js';
import { isHardkmsError, shownText } from '../../src/errors.js';
import { isHttpScheme, isHttpUrl } from '../../src/http-url.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';

/** Issue 15 item 7: the URL rule and the printable-text rule are one function each; every caller keeps its message. */
function errorOf(fn: () => unknown): { code: string; message: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    if (isHardkmsError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('http(s) URLs', () => {
  it('accepts absolute http and https URLs only', () => {
    expect(isHttpUrl('https://api.tatum.io')).toBe(true);
    expect(isHttpUrl('http://127.0.0.1:8080/x')).toBe(true);
    for (const bad of ['ftp://example/x', 'file:///etc/passwd', 'api.tatum.io', '', 'https//x', 'javascript:alert(1)'])
      expect(isHttpUrl(bad), bad).toBe(false);
    expect(isHttpScheme(new URL('HTTPS://X'))).toBe(true);
    expect(isHttpScheme(new URL('syslog+tls://x:1'))).toBe(false);
  });

  it('TATUM_API_URL that is not http(s) is an InputError naming it', () => {
    const saved = process.env.TATUM_API_URL;
    process.env.TATUM_API_URL = 'ftp://api.tatum.io';
    try {
      const e = errorOf(() => buildConfig({ path: '/nonexistent-hardkms-dir/wallet.dat' }));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toBe("TATUM_API_URL 'ftp://api.tatum.io' is not an http(s) URL.");
    } finally {
      if (saved === undefined) delete process.env.TATUM_API_URL;
      else process.env.TATUM_API_URL = saved;
    }
  });

  it('the Tatum client refuses a relative URL and another scheme, each with its own message', () => {
    const opts = { apiKey: 'k', clientVersion: 'test' };
    expect(errorOf(() => new TatumClient({ ...opts, baseUrl: 'api.tatum.io' })).message).toBe(
      'The Tatum API URL is not a valid absolute URL',
    );
    expect(errorOf(() => new TatumClient({ ...opts, baseUrl: 'ftp://api.tatum.io' })).message).toBe(
      'The Tatum API URL has scheme ftp:',
    );
  });
});

describe('text from outside in messages', () => {
  it('is printable ASCII, cut at the limit with a mark', () => {
    expect(shownText('abc')).toBe('abc');
    expect(shownText('a\nb\u0000c\u00e9')).toBe('a?b?c?');
    expect(shownText('x'.repeat(64))).toBe('x'.repeat(64));
    expect(shownText('x'.repeat(65))).toBe(`${'x'.repeat(64)}…`);
    expect(shownText('y'.repeat(30), 24)).toBe(`${'y'.repeat(24)}…`);
  });

  it('an unknown chain code is shown printable and short', () => {
    expect(errorOf(() => getChainAdapter(`\u001b[31m${'Z'.repeat(40)}`)).message).toBe(
      `Unsupported chain '?[31m${'Z'.repeat(19)}…'. Unsupported blockchain.`,
    );
  });
});

describe('output scripts a key owns (change detection)', () => {
  it('are P2PKH, P2WPKH, P2SH-P2WPKH of the key and P2PKH of its uncompressed form, as bitcoinjs-lib builds them', () => {
    const pub = Buffer.from(secp256k1.getPublicKey(Buffer.alloc(32, 7), true));
    const full = Buffer.from(secp256k1.getPublicKey(Buffer.alloc(32, 7), false));
    const expected = [
      payments.p2pkh({ pubkey: pub }).output!,
      payments.p2wpkh({ pubkey: pub }).output!,
      payments.p2sh({ redeem: payments.p2wpkh({ pubkey: pub }) }).output!,
      payments.p2pkh({ pubkey: full }).output!,
    ].map((s) => Buffer.from(s).toString('hex'));
    expect([...ownScripts([pub])]).toEqual(expected);
  });
});
