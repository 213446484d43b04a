// Opens the token, logs in and closes it N times, then prints what failed, by PKCS#11 error:
// a test of several hardkms processes starting on one SoftHSM2 token at once
// (test/integration/hsm/softhsm-concurrent-login.test.ts).
//   node token-open-login.mjs DIST_DIR N      the token PIN on stdin, one line
import { createInterface } from 'node:readline';
const [dist, n] = process.argv.slice(2);
const { Token } = await import(`${dist}/hsm/token.js`);
const pin = await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
const failures = {};
for (let i = 0; i < Number(n); i++) {
  try {
    const token = Token.open({ label: process.env.HARDKMS_TOKEN_LABEL });
    try {
      token.login(Buffer.from(pin));
    } finally {
      token.close();
    }
  } catch (e) {
    const key = `${e.code ?? 'unknown'}: ${e.message}`;
    failures[key] = (failures[key] ?? 0) + 1;
  }
}
process.stdout.write(JSON.stringify(failures) + '\n');
