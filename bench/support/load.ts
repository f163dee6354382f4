/**
 * CPU accounting from /proc (Linux): who used the machine's cores during a measurement. On a 2-core machine
 * shared with other work, a figure is only meaningful when "other processes" stayed near zero.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { progress } from './report.ts';

const HZ = 100;
const hasProc = existsSync('/proc/stat');

/** Busy and total ticks of all cores since boot. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU ticks used by one process and its reaped children; 0 when it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** CPU ticks of every process named postgres on this machine (server and backends). */
function postgresTicks(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') ticks += processTicks(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

export interface LoadReport {
  wallS: number;
  cores: number;
  /** CPU seconds of this process. */
  benchS: number;
  /** CPU seconds of the server process, when it runs apart. */
  serverS: number | undefined;
  postgresS: number;
  otherS: number;
}

/** Starts measuring; `stop()` reports CPU seconds per party. `server` is the pid of a server process of ours. */
export function startLoadMeter(server?: number): { stop(): LoadReport | undefined } {
  if (!hasProc) return { stop: () => undefined };
  const cores = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
  const m0 = machineTicks();
  const b0 = processTicks(process.pid);
  const s0 = server ? processTicks(server) : 0;
  const p0 = postgresTicks();
  const t0 = performance.now();
  return {
    stop() {
      const m1 = machineTicks();
      const bench = (processTicks(process.pid) - b0) / HZ;
      const srv = server ? (processTicks(server) - s0) / HZ : undefined;
      const postgres = (postgresTicks() - p0) / HZ;
      const busy = (m1.busy - m0.busy) / HZ;
      return {
        wallS: (performance.now() - t0) / 1000,
        cores,
        benchS: bench,
        serverS: srv,
        postgresS: postgres,
        otherS: Math.max(0, busy - bench - (srv ?? 0) - postgres),
      };
    },
  };
}

export function describeLoad(r: LoadReport | undefined, benchName = 'benchmark'): string {
  if (!r) return 'CPU use: not available (no /proc)';
  const part = (name: string, s: number) => `${name} ${s.toFixed(1)} s (${Math.round((100 * s) / r.wallS)} % of a core)`;
  return [
    `CPU over ${r.wallS.toFixed(1)} s (${r.cores} cores): ${part(benchName, r.benchS)}`,
    ...(r.serverS === undefined ? [] : [part('server', r.serverS)]),
    part('postgres', r.postgresS),
    part('other processes', r.otherS),
  ].join(', ');
}

/** Waits (at most `maxWaitS`) until the machine is nearly idle, so that other work does not distort a measurement. */
export async function waitForQuietMachine(maxWaitS = 300, busyLimit = 0.2): Promise<void> {
  if (!hasProc) return;
  const deadline = performance.now() + maxWaitS * 1000;
  let told = false;
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 2000));
    const b = machineTicks();
    const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy <= busyLimit) return;
    if (performance.now() > deadline) {
      progress(`machine still ${Math.round(busy * 100)} % busy after ${maxWaitS} s; measuring anyway (see "other processes" below)`);
      return;
    }
    if (!told) progress(`waiting for the machine to go quiet (${Math.round(busy * 100)} % busy with other work)`);
    told = true;
  }
}
