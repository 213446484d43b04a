/**
 * Secrets the test suite feeds to hardkms. No log line, no stderr of any hardkms process,
 * may contain one of them (invariant 1): test/support/log-scan.ts checks that at the end
 * of the run. stdout is not scanned: printing secrets is the purpose of a few commands.
 */
import { TEST_PIN, TEST_SO_PIN } from './softhsm.js';
import { TEST_PASSWORD } from './vault.js';

const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
  'test test test test test test test test test test test junk',
];

const KEYS = [
  '1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727', // ETH key0 of "abandon … about"
  'e01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc', // EVM testnet key0
  'L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf', // BTC key0 (WIF)
  'cV6NTLu255SZ5iCNkVHezNGDH5qv6CanJpgBPqYgJU13NNKJhRs1', // testnet key0 (WIF)
  'b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a28', // TRON key0
  'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', // Hardhat account 0
  ...[0x11, 0x22, 0x33, 0x41, 0x42, 0x51, 0x61, 0x62, 0x71, 0x72].map((n) =>
    n.toString(16).padStart(2, '0').repeat(32),
  ), // e2e testKey(n)
];

export const KNOWN_SECRETS: readonly string[] = [TEST_PIN, TEST_SO_PIN, TEST_PASSWORD, ...MNEMONICS, ...KEYS];
