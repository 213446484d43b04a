import { describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../../src/chains/registry.js';
import type { ChainCode } from '../../../src/chains/types.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';

// Spec §4.3: produced by running Tatum's own SDK derivation on this mnemonic.
const MNEMONIC = Buffer.from(
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'utf8',
);
const seed = mnemonicToSeed(MNEMONIC);

interface Row {
  chain: ChainCode;
  testnet: boolean;
  xpub: string; // first 24 characters, or the full xpub where the spec gives it
  addr0: string;
  addr1: string;
  key0: string;
}

const EVM_TEST = {
  xpub: 'xpub6E2Z9V9KLRQ7iUGCvKrH',
  addr0: '0xb157e208264ff9edebbcb1d36e66d156df8afa6c',
  addr1: '0xc6d7a4dac16fc817126d0184c53cff8c7d0d21dc',
  key0: '0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc',
};
const ETH_MAIN = {
  xpub: 'xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr',
  addr0: '0x9858effd232b4033e47d90003d41ec34ecaeda94',
  addr1: '0x6fac4d18c912343bf86fa7049364dd4e424ab9c0',
  key0: '0x1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727',
};
const TRON = {
  xpub: 'xpub6EuK4CZWW5urEHdwAVDdDw327danAtccFcrXYvgf1DHrPXRwErt36xStQ2PNhn4hpwzPbzJ8pJVpewgChRnSs59q5Ay61GCfQZKUe71gbLq',
  addr0: 'TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH',
  addr1: 'TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK',
  key0: 'b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a28',
};

const ROWS: Row[] = [
  {
    chain: 'BTC',
    testnet: false,
    xpub: 'xpub6ELHKXNimKbxMCytPh7EdC2QXx46T9qLDJWGnTraz1H9kMMFdcduoU69wh9cxP12wDxqAAfbaESWGYt5rREsX1J8iR2TEunvzvddduAPYcY',
    addr0: 'bc1qmxrw6qdh5g3ztfcwm0et5l8mvws4eva24kmp8m',
    addr1: 'bc1qdtsnq885fjjj2agaza36cnl0ztg32wvxqg5x0c',
    key0: 'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf',
  },
  {
    chain: 'BTC',
    testnet: true,
    xpub: 'tpubDEQBfiy13hMZzGT4NWqN',
    addr0: 'tb1q8gk5z3dy7zv9ywe7synlrk58elz4hrne29cpdj',
    addr1: 'tb1q60qgwr5wzw57cvs0z2qg3yf84g26fs9p97f2cu',
    key0: 'cV6NTLu255SZ5iCNkVHezNGDH5qv6CanJpgBPqYgJU13NNKJhRs1',
  },
  {
    chain: 'LTC',
    testnet: false,
    xpub: 'Ltub2ba35pYfv93JM545xB7g',
    addr0: 'LUWPbpM43E2p7ZSh8cyTBEkvpHmr3cB8Ez',
    addr1: 'Ldatw8ZjgMGNUo5HMN6RgCrjmh7q494Si3',
    key0: 'T5b4RiWRs7XG8xZ2bCHBoJcn4JrpMTbGRFYXgoZHd7nD8izwqhMK',
  },
  {
    chain: 'LTC',
    testnet: true,
    xpub: 'ttub4fPRcZKKhfx7VLibQetg',
    addr0: 'mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV',
    addr1: 'mzpbWabUQm1w8ijuJnAof5eiSTep27deVH',
    key0: 'cV6NTLu255SZ5iCNkVHezNGDH5qv6CanJpgBPqYgJU13NNKJhRs1',
  },
  {
    chain: 'DOGE',
    testnet: false,
    xpub: 'xpub6EHiXXdi5366yroWHkDJ',
    addr0: 'DBus3bamQjgJULBJtYXpEzDWQRwF5iwxgC',
    addr1: 'DAcDAtJRztxBHyA6D6h8du1HguyTR43Mas',
    key0: 'QPkeC1ZfHx3c9g7WTj9cQ8gnvk2iSAfAcbq1aVAWjNTwDAKfZUzx',
  },
  {
    chain: 'DOGE',
    testnet: true,
    xpub: 'tpubDEQBfiy13hMZzGT4NWqN',
    addr0: 'nZVmfmUtKPmskB9Ds4P9GUJy9eYFqPKHqH',
    addr1: 'noVoUoC3q7wgmb25McqSdLCHhUAhSREkT9',
    key0: 'cnFdbfcpRPGq2kDure5SaiTBmxFDm38EdhvSWkEsHRWTw2h4kW7W',
  },
  {
    chain: 'BCH',
    testnet: false,
    xpub: 'xpub6F2iaK2JUPcgrZ6RTGH6',
    addr0: 'bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6',
    addr1: 'bitcoincash:qp8sfdhgjlq68hlzka9lcsxtcnvuvnd0xqxugfzzc5',
    key0: 'KxbEv3FeYig2afQp7QEA9R3gwqdTBFwAJJ6Ma7j1SkmZoxC9bAXZ',
  },
  {
    chain: 'BCH',
    testnet: true,
    xpub: 'tpubDFQM6YqzBfa98MHGuTGC',
    addr0: 'bchtest:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnqseeszx8x',
    addr1: 'bchtest:qp8sfdhgjlq68hlzka9lcsxtcnvuvnd0xqzwvwq4lg',
    key0: 'cNxENxFVynNHk6t5Vp3HWjYka4vrqi2rNLEpgYBWwsRa4hEx8Uj8',
  },
  { chain: 'ETH', testnet: false, ...ETH_MAIN },
  { chain: 'BSC', testnet: false, ...ETH_MAIN },
  { chain: 'KCS', testnet: false, ...ETH_MAIN },
  {
    chain: 'MATIC',
    testnet: false,
    xpub: 'xpub6EWJgN2zPyyJhaDTY6tc',
    addr0: '0x841b1de89b7a8014d01b0fc73e7a21479a94899a',
    addr1: '0x0fd98da9c3141642307721dc666220d944dcbc15',
    key0: '0x738e5815ef54dd2291f8dddb2c426590aa812f9884be354f619f2223c294a959',
  },
  {
    chain: 'KLAY',
    testnet: false,
    xpub: 'xpub6FPFRpmC4azWs6TLRmtZ',
    addr0: '0x9bcad3fbdea1a39445f06c7c7f064b712ffb882f',
    addr1: '0xf782918ab7f6c204055c312d0034b31f0e0fcc98',
    key0: '0xb3a102dac6adc74c556ad078399b020bb90386987883122c27443865b5ed5b9e',
  },
  {
    chain: 'ONE',
    testnet: false,
    xpub: 'xpub6ENtqxYx6UsgxtGBD4Z5',
    addr0: '0x06916163a17f07ce70e3d43ed37395f05b5738ae',
    addr1: '0x8e2a1ab44092f1cd399665c160e61d44d145a61f',
    key0: '0xb17bac87fed2fab2dd5fa9df7cbce18dd4a0d6c021b3f45f1fc8bc34ad0128e1',
  },
  {
    chain: 'XDC',
    testnet: false,
    xpub: 'xpub6F7Vz8X4q43xfs5qNZV9',
    addr0: 'xdcf4f4ec5a2380a1599ff802b798fc002f83a001a8',
    addr1: 'xdcc8725efa8b6684b259e129dcdd14102d00b284f1',
    key0: '0xf5f43f03dd8bc815a911f505156fe0c67a3b390db3839472ca4995fd6087df25',
  },
  {
    chain: 'VET',
    testnet: false,
    xpub: 'xpub6EV2C29DE2vifLG7VfDz',
    addr0: '0xe5d846748409df0b23d5bd47ceb14afc1cbbbcb3',
    addr1: '0xdb62fe39887b1b3b80a05e16596150ccdb12199e',
    key0: '0x307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6c0',
  },
  {
    chain: 'CELO',
    testnet: false,
    xpub: 'xpub6Eg2SEFtReDrVUiXFRdW',
    addr0: '0xe70e8afef87cc8f0d7a61f58535f6ec99cd860ca',
    addr1: '0x3ec275571fda6e659c18a5d81c90b350a8b34f8a',
    key0: '0x729fc06fe7a8ccd81d6bb7bbb0995c570f1ba70977da9127a813472c8591a193',
  },
  // "any EVM test": every EVM chain uses m/44'/1'/0'/0 on testnet.
  ...(['ETH', 'BSC', 'MATIC', 'CELO', 'KLAY', 'ONE', 'KCS', 'VET'] as const).map((chain) => ({
    chain,
    testnet: true,
    ...EVM_TEST,
  })),
  {
    chain: 'XDC',
    testnet: true,
    ...EVM_TEST,
    addr0: 'xdc' + EVM_TEST.addr0.slice(2),
    addr1: 'xdc' + EVM_TEST.addr1.slice(2),
  },
  { chain: 'TRON', testnet: false, ...TRON },
  { chain: 'TRON', testnet: true, ...TRON },
];

describe('golden vectors of spec §4.3 (Tatum SDK output)', () => {
  for (const row of ROWS) {
    const label = `${row.chain} ${row.testnet ? 'testnet' : 'mainnet'}`;
    it(`${label}: xpub, addr0, addr1, key0`, () => {
      const a = getChainAdapter(row.chain);
      const xpub = a.xpubFromSeed(seed, row.testnet);
      expect(xpub.length).toBe(111);
      if (row.xpub.length === 111) expect(xpub).toBe(row.xpub);
      else expect(xpub.slice(0, 24)).toBe(row.xpub);
      expect(a.addressFromXpub(xpub, 0, row.testnet)).toBe(row.addr0);
      expect(a.addressFromXpub(xpub, 1, row.testnet)).toBe(row.addr1);

      const key0 = a.privateKeyFromSeed(seed, 0, row.testnet);
      expect(a.formatPrivateKey(key0, row.testnet)).toBe(row.key0);
      // The key's own address is the xpub's child 0 (P2PKH for BTC private-key wallets).
      const parsed = a.parsePrivateKey(row.key0, row.testnet);
      expect(Buffer.from(parsed)).toEqual(Buffer.from(key0));
    });
  }
});
