// Child process for the audit kill test: generates token keys one at a time and removes
// every third one again, through the vault's own operations, until the parent SIGKILLs it.
import { PasswordProvider } from '../../dist/vault/password-provider.js';
import { Vault } from '../../dist/vault/vault.js';
import { generatePrivateKeys } from '../../dist/vault/entry-secrets.js';

const [path, password] = process.argv.slice(2);
const vault = await Vault.open({
  path,
  provider: new PasswordProvider(async () => Buffer.from(password), { N: 1024, r: 8, p: 1 }),
  actor: 'audit-crash-writer',
});
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const [e] = generatePrivateKeys(vault, { chain: 'ETH', testnet: true, publicData: () => ({ address: '0x00' }) }, 1);
  if (i % 3 === 2) vault.removeEntry(e.signatureId, { event: 'wallet.remove', subject: e.signatureId, result: 'ok' });
}
