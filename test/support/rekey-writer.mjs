// Child process for the re-key crash test: opens a vault and rotates its whole secret (new
// store key and token PIN, every row re-MAC'd), reporting each step on stdout. The parent
// kills it with SIGKILL at a step (mode "steps": it pauses after each one) or at a random
// moment (mode "applySeal": the real protocol, no pauses). Mode "check" opens the vault in a
// fresh process (SoftHSM2 caches token state per process), lists every row and reports.
import { PasswordProvider } from '../../dist/vault/password-provider.js';
import { applySeal, newVaultSecret } from '../../dist/vault/seal-rotation.js';
import { Vault } from '../../dist/vault/vault.js';

// A 4th argument names the audit log (a PostgreSQL store has no folder for it to sit beside).
const [path, password, mode, auditLogPath] = process.argv.slice(2);
const provider = new PasswordProvider(async () => Buffer.from(password), { N: 1024, r: 8, p: 1 });
const vault = await Vault.open({ path, provider, actor: 'rekey-writer', ...(auditLogPath ? { auditLogPath } : {}) });
const say = (s) => process.stdout.write(`${s}\n`);
if (mode === 'check') {
  const rows = vault.store.listEntries().length; // every row verifies, or this throws
  say(JSON.stringify({ rows, counter: vault.store.storeCounter(), seal: vault.store.getMeta('seal') }));
  vault.seal();
  process.exit(0);
}
const pause = () => new Promise((r) => setTimeout(r, 300));
const secret = newVaultSecret();
const record = await provider.seal(secret, { vaultId: vault.vaultId, mainnet: !vault.testnetOnly, audit: () => {} });
say('start');
if (mode === 'steps') {
  const oldPin = Buffer.from(vault.currentSecret().tokenPin);
  vault.replaceSeal(record, secret);
  say('rekeyed');
  await pause();
  vault.token.setPin(oldPin, secret.tokenPin);
  say('pin');
  await pause();
  vault.completePinChange();
  say('done');
} else {
  applySeal(vault, record, secret);
  say('done');
}
setInterval(() => {}, 1000);
