// Logs in and out of the token in a loop until killed: a test of what a kill during C_Login
// does to SoftHSM2's token.object (test/security/token-truncation.test.ts, test/e2e/fault-kill.test.ts).
//   node login-loop.mjs DIST_DIR            the token PIN on stdin, one line
//   node login-loop.mjs DIST_DIR WALLET     unseal that vault (emulated YubiKeys) and use its PIN
import { createInterface } from 'node:readline';
const [dist, wallet] = process.argv.slice(2);

async function loop(token, pin) {
  process.stdout.write('ready\n');
  for (;;) {
    token.logout();
    token.login(pin);
  }
}

if (wallet) {
  const { Command } = await import('commander');
  const { registerGate } = await import(`${dist}/cli/gate.js`);
  registerGate(new Command());
  const { configFrom, withVault } = await import(`${dist}/cli/context.js`);
  await withVault(configFrom({ path: wallet }), 'test:login-loop', (vault) =>
    loop(vault.token, Buffer.from(vault.currentSecret().tokenPin)),
  );
} else {
  const { Token } = await import(`${dist}/hsm/token.js`);
  const pin = await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  const token = Token.open({ label: process.env.HARDKMS_TOKEN_LABEL });
  token.login(Buffer.from(pin));
  await loop(token, Buffer.from(pin));
}
