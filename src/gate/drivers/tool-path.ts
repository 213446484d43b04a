import { accessSync, constants, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { readEnv } from '../../config/env.js';
import { HardkmsError } from '../../errors.js';

/**
 * The YubiKey tools run by an absolute path fixed at enrollment (kept in the MAC'd
 * credential record), never looked up on PATH at unseal: a fake `ykman` earlier on PATH
 * would otherwise answer with replayed responses. Before each run the file and every
 * directory above it must be owned by root and not writable by group or others (a
 * root-owned sticky directory such as /tmp is accepted: others cannot rename into it),
 * so only root can swap the tool.
 */
const DEFAULT_TOOL_DIRS = ['/usr/bin', '/usr/local/bin', '/bin'];

function untrusted(path: string, why: string): HardkmsError {
  return new HardkmsError('GATE_TOOL_UNTRUSTED', `The YubiKey tool ${path} is not trusted: ${why}.`, {
    hint: 'Install the tool from the distribution (apt-get install yubikey-manager / yubikey-personalization) so it is root-owned and not group/world-writable, then retry.',
  });
}

export function assertTrustedTool(path: string): void {
  if (!isAbsolute(path)) throw untrusted(path, 'it is not an absolute path');
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new HardkmsError('GATE_DRIVER_FAILED', `The YubiKey tool ${path} is not installed.`, {
      hint: 'Install it at the path it was enrolled with, or re-enroll the keys (`hardkms rotate`) with the tool where it is now.',
    });
  }
  if (!st.isFile()) throw untrusted(path, 'it is not a regular file');
  if (st.uid !== 0) throw untrusted(path, `it is owned by uid ${st.uid}, not root`);
  if ((st.mode & 0o022) !== 0) throw untrusted(path, 'it is writable by group or others');
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const d = statSync(dir);
    if (d.uid !== 0) throw untrusted(path, `its directory ${dir} is owned by uid ${d.uid}, not root`);
    if ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0)
      throw untrusted(path, `its directory ${dir} is writable by group or others`);
    if (dir === dirname(dir)) break;
  }
}

/**
 * Where `name` is, for enrollment: the first executable on PATH (as the operator's shell
 * would run it), else the usual system directories. The result is checked and recorded.
 */
export function resolveTool(name: string, path = readEnv('PATH') ?? ''): string {
  const dirs = [...path.split(':').filter((d) => isAbsolute(d)), ...DEFAULT_TOOL_DIRS];
  for (const d of dirs) {
    const candidate = join(d, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) {
        assertTrustedTool(candidate);
        return candidate;
      }
    } catch (e) {
      if (e instanceof HardkmsError) throw e;
    }
  }
  const pkg = name === 'ykman' ? 'yubikey-manager' : 'yubikey-personalization';
  throw new HardkmsError('GATE_DRIVER_FAILED', `The YubiKey tool ${name} is not installed or not on PATH.`, {
    hint: `Install it (Debian/Ubuntu: apt-get install ${pkg}) or choose another driver with --driver.`,
  });
}

/** The tool of a credential enrolled before paths were recorded: the distribution's path, not PATH. */
export function legacyToolPath(name: string): string {
  return `/usr/bin/${name}`;
}

/**
 * The environment the tools run with: nothing of ours (no TATUM_*, no HARDKMS_TOKEN_PIN), C locale.
 * HOME is the caller's, passed through as it is when the tool runs.
 */
export function toolEnv(): NodeJS.ProcessEnv {
  const home = readEnv('HOME');
  return { PATH: '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', ...(home ? { HOME: home } : {}) };
}
