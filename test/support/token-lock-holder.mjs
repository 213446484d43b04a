// Takes the host-wide lock of a SoftHSM2 token directory, says "held", and waits until killed:
// the lock must go with the process (test/integration/hsm/softhsm-concurrent-login.test.ts).
//   node token-lock-holder.mjs DIST_DIR TOKEN_DIR
const [dist, tokenDir] = process.argv.slice(2);
const { withTokenDirLock } = await import(`${dist}/hsm/softhsm-lock.js`);
withTokenDirLock(tokenDir, () => {
  process.stdout.write('held\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
