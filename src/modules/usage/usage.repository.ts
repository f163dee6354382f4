import { type SqlBool, sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { toCount, totals, type UsageTotals } from './usage.ts';

/** Whose usage: one SIM, the SIMs now in a group, or an account (alone or with its descendants). */
export type UsageSubject =
  | { kind: 'sim'; iccid: string }
  | { kind: 'group'; groupId: string }
  | { kind: 'account'; accountId: string; descendantsPath?: string };

/** Hourly usage rows of the subject that the caller may see (rows of accounts under `scopePath`). */
function rowsOf(db: Executor, subject: UsageSubject, scopePath: string) {
  let q = db.selectFrom('usage_hourly').where('usage_hourly.account_id', 'in', accountIdsUnder(db, scopePath));
  if (subject.kind === 'sim') q = q.where('usage_hourly.iccid', '=', subject.iccid);
  else if (subject.kind === 'group') {
    q = q.where('usage_hourly.iccid', 'in', db.selectFrom('sims').select('sims.iccid').where('sims.group_id', '=', subject.groupId));
  } else if (subject.descendantsPath !== undefined) {
    q = q.where('usage_hourly.account_id', 'in', accountIdsUnder(db, subject.descendantsPath));
  } else {
    q = q.where('usage_hourly.account_id', '=', subject.accountId);
  }
  return q;
}

interface SumRow {
  bytes_in: unknown;
  bytes_out: unknown;
  records: unknown;
}

const toTotals = (r: SumRow | undefined): UsageTotals => (r ? totals(toCount(r.bytes_in), toCount(r.bytes_out), toCount(r.records)) : totals(0, 0, 0));

/**
 * Sums per bucket, where bucket i covers [thresholds[i], thresholds[i+1]). Returns totals by bucket index;
 * buckets without usage are absent.
 */
export async function sumByBucket(db: Executor, subject: UsageSubject, scopePath: string, thresholds: Date[]): Promise<Map<number, UsageTotals>> {
  const out = new Map<number, UsageTotals>();
  if (thresholds.length < 2) return out;
  const bounds = thresholds.map((d) => d.toISOString());
  const rows = await rowsOf(db, subject, scopePath)
    .where('usage_hourly.hour', '>=', thresholds[0]!)
    .where('usage_hourly.hour', '<', thresholds.at(-1)!)
    .select([
      sql<number>`width_bucket(usage_hourly.hour, ${bounds}::timestamptz[])`.as('bucket'),
      sql<string>`sum(usage_hourly.bytes_in)::bigint`.as('bytes_in'),
      sql<string>`sum(usage_hourly.bytes_out)::bigint`.as('bytes_out'),
      sql<string>`sum(usage_hourly.records)::bigint`.as('records'),
    ])
    .groupBy(sql`bucket`)
    .execute();
  for (const r of rows) out.set(toCount(r.bucket) - 1, toTotals(r));
  return out;
}

/** Totals over several ranges in one pass (e.g. today and this cycle); `within` bounds the rows read. */
export async function sumRanges<K extends string>(
  db: Executor,
  subject: UsageSubject,
  scopePath: string,
  within: { from: Date; to: Date },
  ranges: Record<K, { from: Date; to: Date }>,
): Promise<Record<K, UsageTotals>> {
  const keys = Object.keys(ranges) as K[];
  const inRange = (k: K) => sql<SqlBool>`usage_hourly.hour >= ${ranges[k].from} AND usage_hourly.hour < ${ranges[k].to}`;
  const row = await rowsOf(db, subject, scopePath)
    .where('usage_hourly.hour', '>=', within.from)
    .where('usage_hourly.hour', '<', within.to)
    .select(
      keys.flatMap((k, i) => [
        sql<string>`coalesce(sum(usage_hourly.bytes_in) FILTER (WHERE ${inRange(k)}), 0)::bigint`.as(`in_${i}`),
        sql<string>`coalesce(sum(usage_hourly.bytes_out) FILTER (WHERE ${inRange(k)}), 0)::bigint`.as(`out_${i}`),
        sql<string>`coalesce(sum(usage_hourly.records) FILTER (WHERE ${inRange(k)}), 0)::bigint`.as(`records_${i}`),
      ]),
    )
    .executeTakeFirst();
  const values = (row ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    keys.map((k, i) => [k, toTotals({ bytes_in: values[`in_${i}`], bytes_out: values[`out_${i}`], records: values[`records_${i}`] })]),
  ) as Record<K, UsageTotals>;
}
