// node --import ./test/support/module-trace.mjs …: at exit, writes every module file the
// process loaded (ES modules and CommonJS) to $HARDKMS_MODULE_TRACE, one per line.
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const loaded = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => loaded.add(url));
port1.unref();
register('./module-trace-hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
const cjs = createRequire(import.meta.url).cache;
process.on('exit', () => {
  for (const file of Object.keys(cjs)) loaded.add(file);
  writeFileSync(process.env.HARDKMS_MODULE_TRACE, [...loaded].join('\n') + '\n');
});
