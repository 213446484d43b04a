// node --import ./cpu-at-exit.mjs …: appends the process's CPU seconds (user + system) to
// $BENCH_CPU_FILE at exit. Wall time on a loaded machine says little; CPU time says more.
import { appendFileSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  if (process.env.BENCH_CPU_FILE) appendFileSync(process.env.BENCH_CPU_FILE, `${(user + system) / 1e6}\n`);
});
