import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountingInput } from '../src/modules/usage/accounting.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, importAndActivate, installChinaCatalog, startTestPlatform, type TestPlatform } from './support/platform.ts';

const gateway = { id: 'gw_pool', accountId: '' };
const ALLOWANCE = 30 * MB;

const packet = (serial: number, session: string, over: Partial<AccountingInput>): AccountingInput =>
  accountingInput({ acctSessionId: session, imsi: imsiFor(serial), framedIp: null, cell: null, ...over });

describe.each(testDialects())('pool size by the members’ join days on %s', (dialect) => {
  let t: TestPlatform;
  const engine = () => t.platform.services.usage;
  const db = () => t.platform.services.db;
  const pool = async (cycle: string) => {
    const { rows } = await sql<{ size_bytes: string; remaining_bytes: string }>`
      SELECT size_bytes, remaining_bytes FROM pool_balances WHERE plan_id = 'pool-30' AND cycle = ${cycle}`.execute(db());
    return rows.map((r) => ({ sizeBytes: Number(r.size_bytes), remainingBytes: Number(r.remaining_bytes) }))[0];
  };
  const putPlan = async (serial: number, planId: string | null) => {
    const res = await t.api('PUT', `/api/v1/sims/${iccidFor(serial)}/plan`, { planId });
    expect(res.statusCode, res.body).toBe(200);
    // The SIM in memory is refreshed after the change is committed; wait until the engine sees it.
    for (let i = 0; i < 100 && engine().sims.getByIccid(iccidFor(serial))?.planId !== planId; i++) await new Promise((r) => setTimeout(r, 10));
  };
  let session = 0;
  const use = async (serial: number, bytes: number) => {
    const id = `u${++session}`;
    await engine().accounting(gateway, packet(serial, id, { status: 'start' }));
    await engine().accounting(gateway, packet(serial, id, { bytesIn: bytes }));
    await engine().accounting(gateway, packet(serial, id, { status: 'stop', bytesIn: bytes }));
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    // Activated on 2026-01-15 (Asia/Shanghai): by April every member brings its whole allowance.
    await importAndActivate(t, simCsv(1, 4));
    const plan = createRatePlan({
      id: 'pool-30',
      name: 'Pool 30 MB',
      sharing: 'pooled',
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      monthlyFeeMicros: 5_000_000,
      includedBytes: ALLOWANCE,
      coverageZoneIds: ['CN'],
      overage: { pricePerMbMicros: 1_000_000, capMicros: null },
      cutoffBytes: null,
      ratingIncrementBytes: 1024,
    });
    await installChinaCatalog(t, [plan]);
    await putPlan(1, 'pool-30');
    await putPlan(2, 'pool-30');
  });
  afterAll(() => t?.close());

  it('sizes the pool by full allowances for members who joined before the cycle', async () => {
    t.clock.set('2026-04-10T02:00:00Z');
    await use(1, MB);
    expect(await pool('2026-04')).toEqual({ sizeBytes: 2 * ALLOWANCE, remainingBytes: 2 * ALLOWANCE - MB });
  });

  it('grows the pool by 15/30 of an allowance when a SIM joins on the 16th of a 30-day month', async () => {
    t.clock.set('2026-04-16T02:00:00Z'); // 10:00 on the 16th in Shanghai
    await putPlan(3, 'pool-30');
    const { rows } = await sql<{ plan_joined_at: Date }>`SELECT plan_joined_at FROM sims WHERE iccid = ${iccidFor(3)}`.execute(db());
    expect(new Date(rows[0]!.plan_joined_at).toISOString()).toBe('2026-04-16T02:00:00.000Z');
    await use(1, MB);
    expect(await pool('2026-04')).toEqual({ sizeBytes: 2 * ALLOWANCE + ALLOWANCE / 2, remainingBytes: 2 * ALLOWANCE + ALLOWANCE / 2 - 2 * MB });
    // The new member draws from the same pool.
    await use(3, MB);
    expect(await pool('2026-04')).toEqual({ sizeBytes: 2.5 * ALLOWANCE, remainingBytes: 2.5 * ALLOWANCE - 3 * MB });
  });

  it('shows the live pool balance through the API, to the pool’s account only', async () => {
    const res = await t.api('GET', `/api/v1/accounts/${t.operatorAccountId}/pools`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      items: [{ planId: 'pool-30', cycle: '2026-04', members: 3, sizeBytes: 2.5 * ALLOWANCE, usedBytes: 3 * MB, remainingBytes: 2.5 * ALLOWANCE - 3 * MB }],
    });
    const other = await createTenant(t, 'reseller', 'Other reseller');
    expect((await t.api('GET', `/api/v1/accounts/${t.operatorAccountId}/pools`, undefined, { key: other.key })).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/accounts/${other.accountId}/pools`, undefined, { key: other.key })).json()).toEqual({ items: [] });
  });

  it('keeps the size across a restart', async () => {
    await t.restart();
    await use(1, MB);
    expect(await pool('2026-04')).toEqual({ sizeBytes: 2.5 * ALLOWANCE, remainingBytes: 2.5 * ALLOWANCE - 4 * MB });
  });

  it('keeps what a member that leaves mid-cycle brought until the cycle ends, also across a restart', async () => {
    t.clock.set('2026-04-20T02:00:00Z');
    await putPlan(2, null);
    await t.restart();
    await use(1, MB);
    expect(await pool('2026-04')).toEqual({ sizeBytes: 2.5 * ALLOWANCE, remainingBytes: 2.5 * ALLOWANCE - 5 * MB });
    expect((await t.api('GET', `/api/v1/accounts/${t.operatorAccountId}/pools`)).json()).toMatchObject({ items: [{ members: 2, sizeBytes: 2.5 * ALLOWANCE }] });
  });

  it('opens the next cycle with the full allowances of the members it has then', async () => {
    t.clock.set('2026-05-03T02:00:00Z');
    await use(3, MB);
    expect(await pool('2026-05')).toEqual({ sizeBytes: 2 * ALLOWANCE, remainingBytes: 2 * ALLOWANCE - MB });
  });

  it('counts a SIM that is activated on the pooled plan from its activation day', async () => {
    await sql`UPDATE sims SET state = 'inventory', activated_at = NULL WHERE iccid = ${iccidFor(4)}`.execute(db());
    await engine().sims.refresh(iccidFor(4));
    await putPlan(4, 'pool-30');
    t.clock.set('2026-05-22T02:00:00Z'); // the 22nd of a 31-day month: 10 days left
    await use(1, MB);
    expect((await pool('2026-05'))!.sizeBytes).toBe(2 * ALLOWANCE);
    const res = await t.api('POST', `/api/v1/sims/${iccidFor(4)}/state`, { state: 'active' });
    expect(res.statusCode, res.body).toBe(200);
    for (let i = 0; i < 100 && engine().sims.getByIccid(iccidFor(4))?.planJoinedAtMs === null; i++) await new Promise((r) => setTimeout(r, 10));
    await use(1, MB);
    expect((await pool('2026-05'))!.sizeBytes).toBe(2 * ALLOWANCE + Math.floor((ALLOWANCE * 10) / 31));
  });
});
