// Child process for the crash test: opens a vault, commits a small batch, then one
// 10,000-entry batch, reporting each commit on stdout. The parent kills it with SIGKILL.
import { randomBytes, randomUUID } from 'node:crypto';
import { PasswordProvider } from '../../dist/vault/password-provider.js';
import { Vault } from '../../dist/vault/vault.js';

const [path, password] = process.argv.slice(2);
const vault = await Vault.open({
  path,
  provider: new PasswordProvider(async () => Buffer.from(password), { N: 1024, r: 8, p: 1 }),
  actor: 'crash-writer',
});
const entry = () => ({
  signatureId: randomUUID(),
  chain: 'ETH',
  testnet: true,
  kind: 'privateKey',
  publicData: { address: `0x${randomBytes(20).toString('hex')}`, publicKey: `02${randomBytes(32).toString('hex')}` },
  wrappedSecret: randomBytes(40),
  mechanism: 'CKM_AES_KEY_WRAP_PAD',
});
vault.store.addEntries(Array.from({ length: 10 }, entry));
process.stdout.write('committed 10\n');
const batch = Array.from({ length: 10_000 }, entry);
process.stdout.write('batch-start\n');
vault.store.addEntries(batch);
process.stdout.write('committed 10010\n');
setInterval(() => {}, 1000);
