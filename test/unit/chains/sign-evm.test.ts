import { describe, it, expect } from 'vitest';
import { Interface, Transaction, Wallet, hexlify } from 'ethers';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import { decodeEvm, signEvm } from '../../../src/chains/evm/sign.js';

function privKey(n: number): Uint8Array {
  const k = new Uint8Array(32).fill(0x44);
  k[31] = n;
  return k;
}
const K = privKey(1);
const wallet = new Wallet(hexlify(K));
const other = new Wallet(hexlify(privKey(2)));
const TO = '0x8ba1f109551bD432803012645Ac136ddd64DBA72';
const erc20 = new Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
]);

const sign = (payload: unknown, chainId: number | bigint = 1, fill?: Parameters<typeof signEvm>[2]['fill']) =>
  signEvm(
    typeof payload === 'string' ? payload : JSON.stringify(payload),
    [hostDigestSigner(K)],
    fill === undefined ? { chain: 'ETH', chainId } : { chain: 'ETH', chainId, fill },
  );

describe('signEvm', () => {
  it('signs a legacy EIP-155 transfer exactly as an ethers Wallet would, keeping nonce 0', async () => {
    const payload = {
      from: 0,
      to: TO.toLowerCase(),
      value: '1000000000000000000',
      gasPrice: '20000000000',
      gas: 21000,
      nonce: 0,
    };
    const raw = await sign(payload, 1);
    const tx = Transaction.from(raw);
    expect(tx.from).toBe(wallet.address);
    expect(tx.type).toBe(0);
    expect(tx.chainId).toBe(1n);
    expect(tx.nonce).toBe(0);
    expect(tx.to).toBe(TO);
    expect(tx.value).toBe(10n ** 18n);
    expect(tx.gasPrice).toBe(20_000_000_000n);
    expect(tx.gasLimit).toBe(21000n);
    const expected = await wallet.signTransaction({
      type: 0,
      chainId: 1,
      nonce: 0,
      to: TO,
      value: 10n ** 18n,
      gasPrice: 20_000_000_000n,
      gasLimit: 21000,
    });
    expect(raw).toBe(expected);
  });

  it('signs EIP-1559 when fee fields are present (hex numbers)', async () => {
    const payload = {
      to: TO,
      value: '0x2386f26fc10000',
      maxFeePerGas: '0x77359400',
      maxPriorityFeePerGas: '0x3b9aca00',
      gasLimit: '0x5208',
      nonce: '0x7',
      chainId: '0xaa36a7',
      data: '0x',
    };
    const raw = await sign(payload, 11155111n);
    const tx = Transaction.from(raw);
    expect(tx.type).toBe(2);
    expect(tx.from).toBe(wallet.address);
    expect(tx.chainId).toBe(11155111n);
    expect(tx.nonce).toBe(7);
    expect(tx.maxFeePerGas).toBe(2_000_000_000n);
    expect(tx.maxPriorityFeePerGas).toBe(1_000_000_000n);
    expect(tx.value).toBe(10n ** 16n);
  });

  it('refuses a payload chainId that differs from the pinned one', async () => {
    await expect(
      sign({ to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 1, chainId: 56 }, 1),
    ).rejects.toMatchObject({
      code: 'TX_PAYLOAD_MISMATCH',
      message: expect.stringContaining('chainId 56 differs from the pinned chain id 1'),
    });
  });

  it('fills missing nonce/gas/gasPrice from the caller, treating gasPrice 0 as missing', async () => {
    const raw = await sign({ to: TO, value: '5', gasPrice: '0' }, 137, {
      nonce: 12,
      gasPrice: 30_000_000_000n,
      gasLimit: 50_000n,
    });
    const tx = Transaction.from(raw);
    expect(tx.chainId).toBe(137n);
    expect(tx.nonce).toBe(12);
    expect(tx.gasPrice).toBe(30_000_000_000n);
    expect(tx.gasLimit).toBe(50_000n);
    // payload values win over fill
    const tx2 = Transaction.from(
      await sign({ to: TO, value: '5', gasPrice: '7', gas: 21000, nonce: 0 }, 137, {
        nonce: 12,
        gasPrice: 9n,
        gasLimit: 1n,
      }),
    );
    expect([tx2.nonce, tx2.gasPrice, tx2.gasLimit]).toEqual([0, 7n, 21000n]);
    await expect(sign({ to: TO, value: '5' }, 1)).rejects.toThrow(
      /missing nonce, gas limit \(gas\/gasLimit\), gasPrice/,
    );
  });

  it('accepts xdc-prefixed addresses (XDC)', async () => {
    const raw = await signEvm(
      JSON.stringify({
        to: 'xdc' + TO.slice(2).toLowerCase(),
        value: '1',
        gasPrice: '250000000',
        gas: 21000,
        nonce: 3,
      }),
      [hostDigestSigner(K)],
      { chain: 'XDC', chainId: 50 },
    );
    const tx = Transaction.from(raw);
    expect(tx.to).toBe(TO);
    expect(tx.chainId).toBe(50n);
    expect(tx.from).toBe(wallet.address);
  });

  it('refuses Celo gateway-fee fields (feeCurrency alone is signed as CIP-64: sign-celo-cip64.test.ts)', async () => {
    await expect(
      signEvm(
        JSON.stringify({
          to: TO,
          value: '1',
          gasPrice: '1',
          gas: 21000,
          nonce: 0,
          gatewayFee: '5',
          gatewayFeeRecipient: TO,
        }),
        [hostDigestSigner(K)],
        {
          chain: 'CELO',
          chainId: 42220,
        },
      ),
    ).rejects.toMatchObject({ code: 'TX_PAYLOAD_UNSUPPORTED', message: expect.stringContaining('gatewayFee') });
  });

  it('refuses a payload from address that is not the signer, and several keys', async () => {
    await expect(
      sign({ from: other.address, to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 0 }),
    ).rejects.toThrow(/is not the signing wallet's address/);
    await expect(
      sign({ from: wallet.address, to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 0 }),
    ).resolves.toMatch(/^0x/);
    await expect(
      signEvm(
        JSON.stringify({ to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 0 }),
        [hostDigestSigner(K), hostDigestSigner(privKey(2))],
        {
          chain: 'ETH',
          chainId: 1,
        },
      ),
    ).rejects.toThrow(/exactly one signing key, got 2/);
  });

  describe('malformed payloads', () => {
    const base = { to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 0 };
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', '{', /not valid JSON/],
      ['bad checksum', { ...base, to: '0x8Ba1f109551bD432803012645Ac136ddd64DBA72' }, /invalid EIP-55 checksum/],
      ['short address', { ...base, to: '0x1234' }, /to is not a 20-byte hex address/],
      ['decimal value with a point', { ...base, value: '1.5' }, /value must be a non-negative integer/],
      ['negative nonce', { ...base, nonce: -1 }, /nonce must be a non-negative integer/],
      ['unsafe JSON number', { ...base, value: 2 ** 60 }, /must be exact/],
      ['gas and gasLimit disagree', { ...base, gasLimit: 30000 }, /gas \(21000\) and gasLimit \(30000\) disagree/],
      ['gasPrice with 1559 fields', { ...base, maxFeePerGas: '2', maxPriorityFeePerGas: '1' }, /both set/],
      [
        'priority above max fee',
        { to: TO, value: '1', gas: 21000, nonce: 0, maxFeePerGas: '1', maxPriorityFeePerGas: '2' },
        /exceeds maxFeePerGas/,
      ],
      ['data without 0x', { ...base, data: 'a9059cbb' }, /data must be 0x-prefixed hex/],
      ['odd-length data', { ...base, data: '0xabc' }, /data is not valid hex/],
      ['type disagrees', { ...base, type: 2 }, /type 2 does not match/],
      ['access list', { ...base, accessList: [{ address: TO, storageKeys: [] }] }, /accessList is not supported/],
    ];
    for (const [name, payload, re] of cases) {
      it(name, async () => {
        await expect(sign(payload)).rejects.toThrow(re);
      });
    }
  });
});

describe('decodeEvm', () => {
  it('decodes an ERC-20 transfer', () => {
    const data = erc20.encodeFunctionData('transfer', [other.address, 123_456_789n]);
    const d = decodeEvm(JSON.stringify({ to: TO, data, gasPrice: '10', gas: 60000, nonce: 1 }), {
      chain: 'BSC',
      chainId: 56,
    });
    expect(d).toEqual({
      chain: 'BSC',
      outputs: [{ address: TO, amount: 0n }],
      token: { contract: TO, standard: 'ERC20', to: other.address, amount: 123_456_789n },
      fee: 600_000n,
      feePerGas: 10n,
    });
  });

  it('reports other calls and deployments as calls, and a plain transfer as an output', () => {
    const approve = erc20.encodeFunctionData('approve', [other.address, 1n]);
    const d = decodeEvm(
      { to: TO, data: approve, maxFeePerGas: '100', maxPriorityFeePerGas: '1', gas: 50000 },
      { chain: 'ETH', chainId: 1 },
    );
    expect(d.token).toBeUndefined();
    expect(d.call).toEqual({ kind: 'call', to: TO, selector: '0x095ea7b3', dataLength: 68, data: approve.slice(2) });
    expect(d.fee).toBe(5_000_000n);
    expect(d.feePerGas).toBe(100n);
    const dirty = erc20.encodeFunctionData('transfer', [other.address, 1n]).replace(/^0xa9059cbb00/, '0xa9059cbbff');
    expect(decodeEvm({ to: TO, data: dirty }, { chain: 'ETH', chainId: 1 }).call?.selector).toBe('0xa9059cbb');
    expect(decodeEvm({ data: '0x6080' }, { chain: 'ETH', chainId: 1 }).call).toEqual({
      kind: 'deploy',
      dataLength: 2,
      data: '6080',
    });
    const plain = decodeEvm({ to: TO, value: '1000' }, { chain: 'ETH', chainId: 1 });
    expect(plain).toEqual({ chain: 'ETH', outputs: [{ address: TO, amount: 1000n }] });
  });
});
