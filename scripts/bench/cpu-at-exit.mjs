// node --import ./cpu-at-exit.mjs …: appends the process's CPU seconds (user + system) and
// its peak resident memory in MB to $BENCH_CPU_FILE at exit. Wall time on a loaded machine
// says little; CPU time says more.
import { appendFileSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  const rssMb = process.resourceUsage().maxRSS / 1024;
  if (process.env.BENCH_CPU_FILE)
    appendFileSync(process.env.BENCH_CPU_FILE, `${(user + system) / 1e6} ${rssMb.toFixed(0)}\n`);
});
