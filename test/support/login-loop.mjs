// Logs in and out of the token in a loop until killed: a test of what a kill during C_Login
// does to SoftHSM2's token.object (test/security/token-truncation.test.ts, test/e2e/fault-kill.test.ts).
// Usage: node login-loop.mjs DIST_DIR   (the PIN on stdin, one line)
import { createInterface } from 'node:readline';
const dist = process.argv[2];
const { Token } = await import(`${dist}/hsm/token.js`);
const pin = await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
const token = Token.open({ label: process.env.HARDKMS_TOKEN_LABEL });
process.stdout.write('ready\n');
for (;;) {
  token.login(Buffer.from(pin));
  token.logout();
}
