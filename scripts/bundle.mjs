// The second half of `npm run build` (after tsc): bundles the CLI, dist/cli/main.js and what
// it imports, our modules and the npm packages, into dist/cli/main.js and chunks beside it
// (dist/cli/chunk-*.js), with esbuild (issue 13). Why: Node's ES module loader costs per file
// (resolve, stat, read, compile, link); `daemon --help` opened about 290 files, and the loader
// was most of its 0.6 s of CPU. What is loaded lazily stays lazy: each dynamic import() is a
// chunk of its own, loaded on first use as before. The rest of dist/ stays as tsc wrote it
// (benchmarks and tests import dist/vault/*.js directly).
//
// Left external (loaded from node_modules at run time, as before): the native modules, whose
// loaders find their .node or .wasm files next to their own sources (node-gyp-build,
// bindings, __dirname), and pg, which the PostgreSQL worker imports by file URL. Packages our
// code loads through createRequire() (koffi, cashaddrjs, secp256k1's bindings, BIP-39's word
// list, the ripple and ed25519 codecs) are not seen by esbuild and stay external too.
//
// The chunks sit in dist/cli/, two levels below the repository like every other dist/ module
// that reads a file relative to itself (hsm/profiles.ts: ../../hsm/profiles/), so those paths
// hold. dist/cli/bundle-meta.json says which source modules each chunk holds: the start-up
// test (test/integration/cli/startup.test.ts) reads it to know which packages a run loaded.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/', import.meta.url));
const NATIVE_OR_FILE_RELATIVE = [
  'pkcs11js',
  'better-sqlite3',
  'koffi',
  'pg',
  '@emurgo/cardano-serialization-lib-nodejs',
  'secp256k1',
  'keccak',
  'bufferutil',
  'utf-8-validate',
  // CommonJS loaded by a dynamic import() (metrics.ts, only with --metrics-addr): in a chunk of
  // its own, esbuild gives such a package only a default export, and `prom.Registry` was
  // undefined (every daemon with --metrics-addr stopped at start). Node's loader gives it its
  // named exports. test/integration/cli/bundle.test.ts refuses any other such chunk.
  'prom-client',
];

const BANNER =
  "import { createRequire as __hardkmsCreateRequire } from 'node:module'; const require = __hardkmsCreateRequire(import.meta.url);";
// main.js is tsc's output only until this script has run; a second run alone would bundle the bundle.
if (readFileSync(join(cli, 'main.js'), 'utf8').includes(BANNER)) {
  console.error('bundle: dist/cli/main.js is already bundled; run `npm run build` (tsc, then this script)');
  process.exit(1);
}

// Chunks of an earlier build (their names are content hashes) would otherwise pile up.
for (const f of readdirSync(cli)) if (/^chunk-[A-Z0-9]+\.js(\.map)?$/.test(f)) rmSync(join(cli, f));

const result = await build({
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: [join(cli, 'main.js')],
  outdir: cli,
  allowOverwrite: true, // main.js is tsc's output and becomes the bundle's entry
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: NATIVE_OR_FILE_RELATIVE,
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: { js: BANNER },
  sourcemap: true, // composed with tsc's maps: node --enable-source-maps points into src/
  metafile: true,
  logLevel: 'warning',
});

const chunks = {};
for (const [out, { inputs }] of Object.entries(result.metafile.outputs)) {
  if (out.endsWith('.js')) chunks[out.split('/').pop()] = Object.keys(inputs);
}
writeFileSync(join(cli, 'bundle-meta.json'), `${JSON.stringify({ chunks }, null, 1)}\n`);
