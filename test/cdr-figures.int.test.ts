import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalUsage } from '../src/engine/usage-engine.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { importAndActivate, installChinaCatalog, startTestPlatform, type TestPlatform } from './support/platform.ts';

const header = 'record_id,iccid,imsi,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn';
const gateway = { id: 'gw_cdr_figures', accountId: '' };

describe.each(testDialects())('SIM figures of CDR usage on %s', (dialect) => {
  let t: TestPlatform;
  const engine = () => t.platform.services.usage;
  const db = () => t.platform.services.db;
  const figures = async (iccid: string) => {
    const { rows } = await sql<{ day: string | null; day_bytes: string; cycle: string | null; cycle_bytes: string; test_used: string }>`
      SELECT usage_day AS day, usage_day_bytes::text AS day_bytes, usage_cycle AS cycle, usage_cycle_bytes::text AS cycle_bytes, test_used_bytes::text AS test_used
      FROM sims WHERE iccid = ${iccid}`.execute(db());
    const r = rows[0]!;
    return { day: r.day, dayBytes: Number(r.day_bytes), cycle: r.cycle, cycleBytes: Number(r.cycle_bytes), testUsed: Number(r.test_used) };
  };
  const journalRows = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM sim_figure_journal`.execute(db())).rows[0]!.n;
  const importCdr = async (lines: string[]) => {
    const res = await t.api('POST', '/api/v1/usage/cdr-imports', [header, ...lines].join('\n'));
    expect(res.statusCode).toBe(202);
    await t.drainJobs();
    return (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
  };
  const external = (serial: number, key: string, bytes: number): ExternalUsage => ({
    sim: engine().sims.getByIccid(iccidFor(serial))!,
    source: 'cdr',
    recordKey: key,
    startAt: new Date('2026-01-15T01:00:00Z'),
    endAt: new Date('2026-01-15T01:30:00Z'),
    bytesIn: bytes,
    bytesOut: 0,
    mccMnc: '46000',
    apn: 'iot',
  });

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await importAndActivate(t, simCsv(1, 8));
  }, 120_000);
  afterAll(() => t?.close());

  it('writes the figures of an imported file onto the SIM rows and leaves the journal empty; a re-import changes nothing', async () => {
    const lines = [
      `f1,${iccidFor(1)},,2026-01-15T00:10:00Z,2026-01-15T00:20:00Z,100,200,46000,iot`,
      `f2,,${imsiFor(1)},2026-01-15T00:30:00Z,2026-01-15T00:40:00Z,1000,2000,46000,iot`,
      `f3,${iccidFor(2)},,2026-01-15T00:10:00Z,2026-01-15T00:20:00Z,7,8,46000,iot`,
      `f2,${iccidFor(1)},,2026-01-15T00:30:00Z,2026-01-15T00:40:00Z,1000,2000,46000,iot`,
      // Yesterday: counts in the cycle, not in today's figure.
      `f4,${iccidFor(2)},,2026-01-14T10:00:00Z,2026-01-14T10:20:00Z,50,50,46000,iot`,
    ];
    const job = await importCdr(lines);
    expect(job.summary).toMatchObject({ rows: 5, recorded: 4, duplicates: 1, failed: 0 });
    expect(await figures(iccidFor(1))).toMatchObject({ day: '2026-01-15', dayBytes: 3300, cycle: '2026-01', cycleBytes: 3300 });
    expect(await figures(iccidFor(2))).toMatchObject({ dayBytes: 15, cycleBytes: 115 });
    expect(await journalRows()).toBe(0);
    expect(engine().sims.getByIccid(iccidFor(1))).toMatchObject({ usageDayBytes: 3300, usageCycleBytes: 3300 });

    const again = await importCdr(lines);
    expect(again.summary).toMatchObject({ recorded: 0, duplicates: 5 });
    expect(await figures(iccidFor(1))).toMatchObject({ dayBytes: 3300, cycleBytes: 3300 });
    expect(await figures(iccidFor(2))).toMatchObject({ dayBytes: 15, cycleBytes: 115 });
  });

  it('applies figures left in the journal by a stop at the next start, together with RADIUS usage counted after them', async () => {
    const before3 = await figures(iccidFor(3));
    const before4 = await figures(iccidFor(4));
    await engine().ingest([external(3, 'j1', 1000), external(4, 'j2', 40)]);
    await engine().ingest([external(3, 'j3', 500)]);
    // The usage is durable; the SIM rows do not have it yet, the journal does.
    expect(await figures(iccidFor(3))).toEqual(before3);
    expect(await journalRows()).toBeGreaterThan(0);
    // SIM 4 has RADIUS usage after its CDR record: its row is then newer than the journal's snapshot.
    await engine().accounting(gateway, accountingInput({ acctSessionId: 'fig4', status: 'start', imsi: imsiFor(4) }));
    await engine().accounting(gateway, accountingInput({ acctSessionId: 'fig4', imsi: imsiFor(4), bytesIn: 60 }));
    expect((await figures(iccidFor(4))).cycleBytes).toBe(before4.cycleBytes + 100);

    await t.restart();
    expect(await journalRows()).toBe(0);
    expect(await figures(iccidFor(3))).toMatchObject({ dayBytes: before3.dayBytes + 1500, cycleBytes: before3.cycleBytes + 1500 });
    expect(await figures(iccidFor(4))).toMatchObject({ dayBytes: before4.dayBytes + 100, cycleBytes: before4.cycleBytes + 100 });
    expect(engine().sims.getByIccid(iccidFor(3))).toMatchObject({ usageCycleBytes: before3.cycleBytes + 1500 });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM usage_records WHERE source = 'cdr' AND record_key IN ('j1', 'j2', 'j3')`.execute(db());
    expect(rows[0]!.n).toBe(3);
  });

  it('counts the test allowance of a SIM in its test period at once', async () => {
    const iccid = iccidFor(5);
    await sql`UPDATE sims SET state = 'test', test_allowance_bytes = 1000000, test_used_bytes = 0 WHERE iccid = ${iccid}`.execute(db());
    await engine().sims.refresh(iccid);
    await engine().ingest([external(5, 't1', 700)]);
    expect(await figures(iccid)).toMatchObject({ testUsed: 700, cycleBytes: 700 });
    await t.restart();
    expect(await figures(iccid)).toMatchObject({ testUsed: 700, cycleBytes: 700 });
  });

  it('rates a CDR record like the same usage over RADIUS, and stores the same charge and pieces', async () => {
    await installChinaCatalog(t, [
      createRatePlan({
        id: 'cn-fig-overage',
        name: 'cn-fig-overage',
        effectiveFrom: new Date('2026-01-01T00:00:00Z'),
        monthlyFeeMicros: 5_000_000,
        includedBytes: MB,
        coverageZoneIds: ['CN'],
        overage: { pricePerMbMicros: 1_000_000, capMicros: null },
        cutoffBytes: null,
        ratingIncrementBytes: 1024,
      }),
    ]);
    const [radius, cdr] = [iccidFor(6), iccidFor(7)];
    await sql`UPDATE sims SET plan_id = 'cn-fig-overage' WHERE iccid IN (${radius}, ${cdr})`.execute(db());
    for (const iccid of [radius, cdr]) await engine().sims.refresh(iccid);
    engine().rating.simsChanged();

    await engine().accounting(gateway, accountingInput({ acctSessionId: 'rate6', status: 'start', imsi: imsiFor(6) }));
    await engine().accounting(gateway, accountingInput({ acctSessionId: 'rate6', imsi: imsiFor(6), bytesIn: 2 * MB, bytesOut: MB / 2 }));
    await importCdr([`rate7,${iccidFor(7)},,2026-01-15T01:00:00Z,2026-01-15T01:30:00Z,${2 * MB},${MB / 2},46000,iot.apn`]);

    const { rows } = await sql<{ iccid: string; charge_micros: string; plan_id: string; zone_id: string; pieces: unknown }>`
      SELECT iccid, charge_micros::text, plan_id, zone_id, pieces FROM usage_records WHERE iccid IN (${radius}, ${cdr}) AND plan_id IS NOT NULL ORDER BY iccid`.execute(db());
    expect(rows).toHaveLength(2);
    const [a, b] = rows;
    expect(Number(a!.charge_micros)).toBeGreaterThan(0);
    expect({ ...b, iccid: undefined }).toEqual({ ...a, iccid: undefined });
    const balances = await sql<{ iccid: string; balance: unknown }>`SELECT iccid, balance FROM sim_balances WHERE iccid IN (${radius}, ${cdr}) ORDER BY iccid`.execute(db());
    expect(balances.rows[1]!.balance).toEqual(balances.rows[0]!.balance);
  });
});
