/** Small helpers for measuring and printing benchmark figures. */
import { cpus, totalmem } from 'node:os';

/** The value below which `p` percent of the samples lie (nearest rank); `sorted` ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  };
}

/** A count with thousands separators: 1,000,000. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Milliseconds with a precision that suits the size. */
export const ms = (n: number): string => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;

export const seconds = (msValue: number): string => `${(msValue / 1000).toFixed(1)} s`;

export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

export const verdict = (ok: boolean): string => (ok ? 'meets target' : 'MISSES target');

export function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function heading(text: string): void {
  line();
  line(`== ${text}`);
}

/** What the figures were measured on. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

/** Progress for long runs, on stderr so that stdout holds only the figures. */
export function progress(text: string): void {
  process.stderr.write(`  .. ${text}\n`);
}
