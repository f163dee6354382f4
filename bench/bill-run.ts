/**
 * Bill run benchmark: the monthly bill run (BillService.runBills, as POST /api/v1/bills/runs does it) for 1,000,000
 * SIMs on PostgreSQL, over 1,000 enterprise accounts in two time zones, 20 rate plans and a month of rated usage
 * records (overage and roaming among them). The peer, in the same run on the same rows, is one plain aggregate of the
 * month's usage records per account: the least work any bill run must do.
 *
 *   npx tsx bench/bill-run.ts                                     1,000,000 SIMs, 5 usage records each
 *   BENCH_BILL_SIMS=100000 npx tsx bench/bill-run.ts              a quick run
 *
 * Settings: BENCH_BILL_SIMS (default 1,000,000), BENCH_BILL_RECORDS_PER_SIM (5), BENCH_BILL_ACCOUNTS (1,000),
 * BENCH_FRESH=1 (rebuild the data set; it is kept in database meridian_bench_bills between runs otherwise).
 * Target: the run completes in under 2 minutes. After the run every bill must reconcile with the records.
 */
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../src/db/open-database.ts';
import { AccountService } from '../src/modules/accounts/account.service.ts';
import { systemPrincipal } from '../src/modules/accounts/bootstrap.ts';
import { BillService } from '../src/modules/billing/bill.service.ts';
import { insertPlanVersions, insertZones } from '../src/modules/rating/catalog.repository.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { checkpoint, databaseNote, databaseUrl, intEnv, recreateDatabase, setDatabaseNote } from './support/env.ts';
import { heading, int, line, machine, progress, ratio, seconds, verdict } from './support/report.ts';

const SIMS = intEnv('BENCH_BILL_SIMS', 1_000_000);
const PER_SIM = intEnv('BENCH_BILL_RECORDS_PER_SIM', 5);
const ACCOUNTS = intEnv('BENCH_BILL_ACCOUNTS', 1_000);
const PLANS = 20;
const TARGET_MS = 120_000;
const NAME = 'meridian_bench_bills';
const NOTE = `meridian-bench bills sims=${SIMS} per=${PER_SIM} accounts=${ACCOUNTS}`;
const PERIOD = '2026-11';

async function build(url: string): Promise<void> {
  const database = await openDatabase({ url, dataDir: 'memory://' });
  const db = database.db;
  await migrateToLatest(db);
  const now = new Date('2026-10-01T00:00:00Z');
  const t0 = performance.now();
  await sql`INSERT INTO accounts (id, parent_id, path, kind, name, timezone) VALUES ('acc_op', NULL, '/acc_op/', 'operator', 'Operator', 'Asia/Shanghai')`.execute(db);
  // Every tenth enterprise keeps its books in Berlin time: the month has other bounds there.
  await sql`
    INSERT INTO accounts (id, parent_id, path, kind, name, timezone)
    SELECT 'acc_e' || lpad(i::text, 5, '0'), 'acc_op', '/acc_op/acc_e' || lpad(i::text, 5, '0') || '/', 'enterprise', 'Enterprise ' || i,
      CASE WHEN i % 10 = 0 THEN 'Europe/Berlin' ELSE 'Asia/Shanghai' END
    FROM generate_series(1, ${ACCOUNTS}) AS i`.execute(db);
  await insertZones(db, 'acc_op', [
    { id: 'CN', name: 'China', countries: ['CN'], networks: [] },
    { id: 'EU', name: 'Europe', countries: ['DE', 'FR'], networks: [] },
  ], now);
  const plans = Array.from({ length: PLANS }, (_, i) =>
    createRatePlan({
      id: `p${i}`,
      name: `Plan ${i}`,
      effectiveFrom: now,
      monthlyFeeMicros: 1_000_000 * (i + 1) + 150_000,
      includedBytes: (i + 1) * 10 * MB,
      coverageZoneIds: ['CN'],
      overage: { pricePerMbMicros: 290_000, capMicros: null },
      outOfCoverage: { kind: 'rate', pricePerMbMicros: 5_000_000, zoneRates: [] },
      termMonths: i === PLANS - 1 ? 12 : null,
    }),
  );
  await insertPlanVersions(db, 'acc_op', plans, now);
  // 2 % of the SIMs were activated during the month (prorated first month), the rest long before.
  await sql`
    INSERT INTO sims (iccid, account_id, state, msisdn, activated_at, state_changed_at, updated_at, plan_id)
    SELECT '8986' || lpad(i::text, 16, '0'), 'acc_e' || lpad((i % ${ACCOUNTS} + 1)::text, 5, '0'),
      CASE WHEN i % 50 = 7 THEN 'suspended' ELSE 'active' END, NULL,
      CASE WHEN i % 50 = 1 THEN timestamptz '2026-11-01 00:00+08' + (i % 29) * interval '1 day' ELSE timestamptz '2026-03-01 00:00+08' END,
      timestamptz '2026-03-01 00:00+08', now(), 'p' || (i % ${PLANS})
    FROM generate_series(1, ${SIMS}) AS i`.execute(db);
  progress(`  ${int(SIMS)} SIMs in ${seconds(performance.now() - t0)}`);
  const t1 = performance.now();
  // Records spread over the month; one in 8 is overage, one in 40 roaming.
  await sql`
    INSERT INTO usage_records (account_id, iccid, source, start_at, end_at, bytes_in, bytes_out, mcc_mnc, created_at, plan_id, charge_micros, zone_id, pieces)
    SELECT 'acc_e' || lpad((s % ${ACCOUNTS} + 1)::text, 5, '0'), '8986' || lpad(s::text, 16, '0'), 'radius',
      t - interval '10 minutes', t, (n * 7919) % 500000, (n * 104729) % 2000000,
      CASE WHEN n % 40 = 3 THEN '26201' ELSE '46000' END, t, 'p' || (s % ${PLANS}),
      CASE WHEN n % 40 = 3 THEN 5000000 WHEN n % 8 = 5 THEN 290000 + n % 1000 ELSE 0 END,
      CASE WHEN n % 40 = 3 THEN 'EU' ELSE 'CN' END,
      CASE WHEN n % 40 = 3 THEN '[{"kind":"roaming","bytes":1,"amountMicros":5000000,"ref":null}]'::jsonb
           WHEN n % 8 = 5 THEN '[{"kind":"overage","bytes":1,"amountMicros":1,"ref":null}]'::jsonb
           ELSE '[{"kind":"included","bytes":1,"amountMicros":0,"ref":null}]'::jsonb END
    FROM (
      SELECT n, (n % ${SIMS}) + 1 AS s, timestamptz '2026-11-01 00:00+01' + (n::float8 / ${SIMS * PER_SIM}) * interval '29 days 16 hours' AS t
      FROM generate_series(0::bigint, ${SIMS * PER_SIM - 1}) AS n
    ) g`.execute(db);
  progress(`  ${int(SIMS * PER_SIM)} usage records in ${seconds(performance.now() - t1)}`);
  await sql`VACUUM ANALYZE`.execute(db);
  await database.close();
}

async function main(): Promise<void> {
  heading(`Bill run: ${int(SIMS)} SIMs, ${int(SIMS * PER_SIM)} usage records, ${int(ACCOUNTS)} accounts, PostgreSQL`);
  line(machine());
  const url = databaseUrl(NAME);
  if (process.env.BENCH_FRESH === '1' || (await databaseNote(NAME).catch(() => null)) !== NOTE) {
    progress('building the data set');
    await recreateDatabase(NAME);
    await build(url);
    await setDatabaseNote(NAME, NOTE);
  }
  await checkpoint();
  const database = await openDatabase({ url, dataDir: 'memory://' });
  const db = database.db;
  const clock = new ManualClock('2026-12-02T00:00:00Z');
  const accounts = new AccountService(db, 'Asia/Shanghai');
  const bills = new BillService(db, clock, accounts);
  const principal = await systemPrincipal(db, 'bench');

  const peerStart = performance.now();
  const peer = await sql<{ accounts: string; records: string }>`
    SELECT count(*) AS accounts, sum(n) AS records FROM (
      SELECT account_id, count(*) AS n, sum(charge_micros) FROM usage_records
      WHERE end_at >= timestamptz '2026-11-01 00:00+08' AND end_at < timestamptz '2026-12-01 00:00+01' GROUP BY account_id) x`.execute(db);
  const peerMs = performance.now() - peerStart;

  const run = await bills.runBills(principal, { period: PERIOD, rerun: true });
  const billed = await sql<{ bills: string; lines: string }>`SELECT count(DISTINCT b.id) AS bills, count(*) AS lines FROM bills b JOIN bill_lines l ON l.bill_id = b.id WHERE b.period = ${PERIOD}`.execute(db);

  // Every bill must reconcile with the records; a sample of 20 is proven one by one, the whole by the sums.
  const sample = await db.selectFrom('bills').select('id').where('period', '=', PERIOD).orderBy('id').limit(20).execute();
  const unbalanced = [];
  for (const b of sample) if (!(await bills.reconcileBill(principal, b.id)).balanced) unbalanced.push(b.id);
  const sums = await sql<{ billed: string; recorded: string }>`
    SELECT (SELECT sum(l.amount_micros) FROM bill_lines l JOIN bills b ON b.id = l.bill_id WHERE b.period = ${PERIOD} AND l.kind IN ('usage_included', 'overage', 'roaming')) AS billed,
           (SELECT sum(charge_micros) FROM usage_records) AS recorded`.execute(db);
  await database.close();

  line();
  line(`bill run                ${seconds(run.durationMs)}  (${int(run.created + run.replaced)} bills, ${int(Number(billed.rows[0]!.lines))} lines, ${int(run.usageRecords)} records)`);
  line(`  totals                ${Object.entries(run.totals).map(([c, m]) => `${c} ${int(m / 100)}`).join(', ')}`);
  line(`peer: one aggregate     ${seconds(peerMs)}  (${int(Number(peer.rows[0]!.records))} records of ${int(Number(peer.rows[0]!.accounts))} accounts)`);
  line(`bill run / peer         ${ratio(run.durationMs, peerMs)}`);
  line(`reconciliation          sample of ${sample.length}: ${unbalanced.length ? `UNBALANCED ${unbalanced.join(', ')}` : 'all balanced'}; usage lines ${sums.rows[0]!.billed} = records ${sums.rows[0]!.recorded} micros: ${sums.rows[0]!.billed === sums.rows[0]!.recorded}`);
  line(`target < 2 min          ${verdict(run.durationMs < TARGET_MS)}`);
}

await main();
