/** The SIM data the benchmarks use: a CSV for imports, and the shape (states, groups) of a loaded fleet. */
import { iccidFor, imsiFor, msisdnFor } from '../../test/support/iccid.ts';

/** SIM serials run from 1 to `count`; `iccidFor(serial)` is a valid 20-digit ICCID (Luhn check digit). */
export const ICCID_PREFIX = '8986001';

/** Label sets by `serial % 5`; the first (no labels) must stay empty. */
export const LABEL_SETS = ['', 'fleet-a', 'meter|outdoor', 'tracker|eu|roaming', 'pos'] as const;

/** Labels of SIM `serial` as written in the CSV (`|`-separated; may be empty). */
export const labelsFor = (serial: number): string => LABEL_SETS[serial % LABEL_SETS.length]!;

/** One batch per 50,000 SIMs, as a card manufacturer delivers them. */
export const batchFor = (serial: number): string => `B2026-${String(Math.floor((serial - 1) / 50_000) + 1).padStart(3, '0')}`;

export const CSV_HEADER = 'iccid,imsi,msisdn,batch,labels';

/** A valid import file of `count` SIMs (serials 1..count), every row distinct. */
export function fleetCsv(count: number): string {
  const lines: string[] = new Array<string>(count + 1);
  lines[0] = CSV_HEADER;
  for (let s = 1; s <= count; s++) lines[s] = `${iccidFor(s)},${imsiFor(s)},${msisdnFor(s)},${batchFor(s)},${labelsFor(s)}`;
  return `${lines.join('\n')}\n`;
}

/**
 * Where SIMs of a loaded fleet sit, by position in ICCID order (0 = oldest serial, 1 = newest), as on a real
 * network: cards arrive in batches of consecutive ICCIDs, so the newest are still in inventory or test, the oldest
 * include the deactivated and retired ones, and customers (groups) receive whole ranges. Within a range the state
 * mix is spread by a hash of the serial.
 */
export const STATE_LAYOUT: readonly { from: number; mix: readonly (readonly [string, number])[] }[] = [
  { from: 0.88, mix: [['inventory', 100]] },
  { from: 0.78, mix: [['test', 60], ['silent', 40]] },
  { from: 0.1, mix: [['active', 82], ['suspended', 10], ['deactivated', 8]] },
  { from: 0, mix: [['active', 40], ['deactivated', 30], ['retired', 20], ['suspended', 10]] },
];

/** Groups as ranges of positions [from, to); SIMs outside every range (24 %) are in no group. */
export const GROUP_LAYOUT: readonly { name: string; ranges: readonly (readonly [number, number])[] }[] = [
  { name: 'bench-fleet-large', ranges: [[0, 0.1], [0.15, 0.35], [0.45, 0.55]] },
  { name: 'bench-meters', ranges: [[0.1, 0.15], [0.35, 0.45], [0.55, 0.6]] },
  { name: 'bench-trackers', ranges: [[0.6, 0.7]] },
  { name: 'bench-pilot', ranges: [[0.7, 0.71]] },
  { name: 'bench-pos', ranges: [[0.72, 0.77]] },
];

export const groupPercent = (g: (typeof GROUP_LAYOUT)[number]): number => Math.round(100 * g.ranges.reduce((a, [f, t]) => a + t - f, 0));

/**
 * SQL for the derived columns of the SIM with serial `s` (an integer SQL expression) in a fleet of `count`:
 * state, group name, timestamps. `now` is a timestamptz SQL expression. Used by both ways of loading the API
 * benchmark's fleet.
 */
export function shapeSql(s: string, count: number, now: string) {
  const pos = `((${s}) - 1)::float8 / ${count}`;
  const hash = `(abs(hashint4(${s})) % 100)`;
  const mixSql = (mix: readonly (readonly [string, number])[]): string => {
    if (mix.length === 1) return `'${mix[0]![0]}'`;
    let upTo = 0;
    return `CASE ${mix.map(([state, percent]) => `WHEN ${hash} < ${(upTo += percent)} THEN '${state}'`).join(' ')} END`;
  };
  const state = `CASE ${STATE_LAYOUT.map((l) => `WHEN ${pos} >= ${l.from} THEN ${mixSql(l.mix)}`).join(' ')} END`;
  const groupName = `CASE ${GROUP_LAYOUT.map((g) => `WHEN ${g.ranges.map(([f, t]) => `(${pos} >= ${f} AND ${pos} < ${t})`).join(' OR ')} THEN '${g.name}'`).join(' ')} END`;
  const day = (n: string) => `(${n}) * interval '1 day'`;
  const createdAt = `${now} - ${day(`400 + (${s}) % 300`)}`;
  const changedAt = `${now} - ${day(`(${s}) % 390`)}`;
  return {
    state,
    groupName,
    createdAt,
    changedAt,
    /** Columns that depend on the state (`st`, an SQL expression naming the state). */
    suspendReason: (st: string) => `CASE WHEN ${st} = 'suspended' THEN 'user' END`,
    activatedAt: (st: string) => `CASE WHEN ${st} IN ('active', 'suspended', 'deactivated', 'retired') THEN ${changedAt} END`,
    // NOTE: due times lie in the future, so the lifecycle scheduler of the running server has nothing to do.
    stateDueAt: (st: string) =>
      `CASE WHEN ${st} IN ('test', 'silent') THEN ${now} + ${day(`1 + (${s}) % 90`)} WHEN ${st} = 'deactivated' THEN ${now} + ${day(`1 + (${s}) % 365`)} END`,
  };
}

export { iccidFor, imsiFor, msisdnFor };
