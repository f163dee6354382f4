import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountingInput } from '../src/modules/usage/accounting.ts';
import { createRatePlan, MB, type RatePlanInput } from '../src/modules/rating/rate-plan.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, importAndActivate, installChinaCatalog, startTestPlatform, type TestPlatform } from './support/platform.ts';

const gateway = { id: 'gw_rating', accountId: '' };

const packet = (serial: number, session: string, over: Partial<AccountingInput>): AccountingInput =>
  accountingInput({ acctSessionId: session, imsi: imsiFor(serial), framedIp: null, cell: null, ...over });

const plan = (over: Partial<RatePlanInput> & Pick<RatePlanInput, 'id'>) =>
  createRatePlan({
    name: over.id,
    effectiveFrom: new Date('2026-01-01T00:00:00Z'),
    monthlyFeeMicros: 5_000_000,
    includedBytes: MB,
    coverageZoneIds: ['CN'],
    overage: null,
    cutoffBytes: null,
    ratingIncrementBytes: 1024,
    ...over,
  });

describe.each(testDialects())('rating in the usage engine on %s', (dialect) => {
  let t: TestPlatform;
  const engine = () => t.platform.services.usage;
  const db = () => t.platform.services.db;
  const records = async (iccid: string) =>
    (
      await sql<{ bytes: number; charge_micros: number; plan_id: string | null; zone_id: string | null; pieces: { kind: string; bytes: number }[] }>`
        SELECT bytes_in + bytes_out AS bytes, charge_micros, plan_id, zone_id, pieces FROM usage_records WHERE iccid = ${iccid} ORDER BY id`.execute(db())
    ).rows.map((r) => ({ ...r, bytes: Number(r.bytes), charge_micros: Number(r.charge_micros) }));
  const stateOf = async (iccid: string) => (await t.api('GET', `/api/v1/sims/${iccid}`)).json<{ state: string; suspendReason: string | null }>();
  const assign = async (planId: string, serials: number[]) => {
    const iccids = serials.map((s) => iccidFor(s));
    await sql`UPDATE sims SET plan_id = ${planId} WHERE iccid = any(${iccids}::text[])`.execute(db());
    for (const iccid of iccids) await engine().sims.refresh(iccid);
    engine().rating.simsChanged();
  };
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await importAndActivate(t, simCsv(1, 8));
    // The SIMs have been active since before the cycle: each brings its whole allowance to a pool.
    await sql`UPDATE sims SET activated_at = '2025-12-01T00:00:00Z'`.execute(db());
    await engine().rating.reloadCatalog();
    for (let s = 1; s <= 8; s++) await engine().sims.refresh(iccidFor(s));
    await installChinaCatalog(t, [
      plan({ id: 'cn-1mb-block' }),
      plan({ id: 'cn-1mb-overage', overage: { pricePerMbMicros: 1_000_000, capMicros: 2_500_000 } }),
      plan({ id: 'cn-pool', sharing: 'pooled' }),
    ]);
  });
  afterAll(() => t?.close());

  it('rates each delta with its plan, stores the pieces and the balance, and suspends the SIM for quota when the data is used up', async () => {
    await assign('cn-1mb-block', [1]);
    const iccid = iccidFor(1);
    await engine().accounting(gateway, packet(1, 'q1', { status: 'start' }));
    await engine().accounting(gateway, packet(1, 'q1', { bytesIn: 600 * 1024 }));
    expect(await records(iccid)).toEqual([{ bytes: 600 * 1024, charge_micros: 0, plan_id: 'cn-1mb-block', zone_id: 'CN', pieces: [{ kind: 'included', bytes: 600 * 1024, amountMicros: 0, ref: null }] }]);
    const { rows } = await sql<{ cycle: string; balance: { includedRemainingBytes: number } }>`SELECT cycle, balance FROM sim_balances WHERE iccid = ${iccid}`.execute(db());
    expect(rows[0]).toMatchObject({ cycle: '2026-01', balance: { includedRemainingBytes: MB - 600 * 1024 } });
    expect((await stateOf(iccid)).state).toBe('active');

    await engine().accounting(gateway, packet(1, 'q1', { bytesIn: 1200 * 1024 }));
    const last = (await records(iccid)).at(-1)!;
    expect(last.pieces).toEqual([
      { kind: 'included', bytes: 424 * 1024, amountMicros: 0, ref: null },
      { kind: 'blocked', bytes: 176 * 1024, amountMicros: 0, ref: 'exhausted' },
    ]);
    await waitFor(async () => (await stateOf(iccid)).state === 'suspended');
    expect(await stateOf(iccid)).toMatchObject({ state: 'suspended', suspendReason: 'quota' });
    const changes = (await t.api('GET', `/api/v1/sims/${iccid}/changes?field=state`)).json<{ items: { actor: string; reason: string }[] }>();
    expect(changes.items[0]).toMatchObject({ actor: 'system:rating', reason: expect.stringContaining('used up') });
  });

  it('gives a SIM suspended for quota its data again when the next cycle begins', async () => {
    const iccid = iccidFor(1);
    expect((await stateOf(iccid)).state).toBe('suspended');
    await t.platform.scheduler.tick();
    expect((await stateOf(iccid)).state).toBe('suspended'); // still January in Shanghai
    t.clock.set(new Date('2026-01-31T16:00:00Z')); // 2026-02-01 00:00 in Shanghai
    await t.platform.scheduler.tick();
    expect(await stateOf(iccid)).toMatchObject({ state: 'active', suspendReason: null });
    const changes = (await t.api('GET', `/api/v1/sims/${iccid}/changes?field=state`)).json<{ items: { actor: string; reason: string; newValue: string }[] }>();
    expect(changes.items[0]).toMatchObject({ actor: 'system:rating', newValue: 'active', reason: expect.stringContaining('2026-02') });
    await engine().sims.refresh(iccid);
    await engine().accounting(gateway, packet(1, 'q2', { status: 'start' }));
    await engine().accounting(gateway, packet(1, 'q2', { bytesIn: 1024 }));
    expect((await records(iccid)).at(-1)!.pieces).toEqual([{ kind: 'included', bytes: 1024, amountMicros: 0, ref: null }]);
    t.clock.set(new Date('2026-01-15T02:00:00Z'));
  });

  it('uses a top-up after the included data, lifts a quota suspension with it, and keeps it across a restart', async () => {
    await assign('cn-1mb-block', [6]);
    const iccid = iccidFor(6);
    await engine().accounting(gateway, packet(6, 't1', { status: 'start' }));
    await engine().accounting(gateway, packet(6, 't1', { bytesIn: 2 * MB }));
    await waitFor(async () => (await stateOf(iccid)).state === 'suspended');
    expect(await stateOf(iccid)).toMatchObject({ state: 'suspended', suspendReason: 'quota' });

    expect((await t.api('POST', `/api/v1/sims/${iccid}/top-ups`, { bytes: 0 })).statusCode).toBe(400);
    expect((await t.api('POST', `/api/v1/sims/${iccid}/top-ups`, { bytes: MB, validMonths: 0 })).statusCode).toBe(400);
    expect((await t.api('POST', `/api/v1/sims/${iccid}/top-ups`, { bytes: 1.5 })).statusCode).toBe(400);
    expect((await t.api('POST', `/api/v1/sims/${iccidFor(8)}/top-ups`, { bytes: MB })).json()).toMatchObject({ code: 'sim_has_no_plan' });
    // Another tenant can neither add data to the SIM nor see its top-ups.
    const other = await createTenant(t, 'reseller', 'Other reseller');
    expect((await t.api('POST', `/api/v1/sims/${iccid}/top-ups`, { bytes: MB }, { key: other.key })).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/sims/${iccid}/top-ups`, undefined, { key: other.key })).statusCode).toBe(404);
    const added = await t.api('POST', `/api/v1/sims/${iccid}/top-ups`, { bytes: 3 * MB });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ iccid, bytes: 3 * MB, expiresAt: '2026-01-31T16:00:00.000Z' });
    await waitFor(async () => (await stateOf(iccid)).state === 'active');
    expect((await stateOf(iccid)).state).toBe('active');
    expect((await t.api('GET', `/api/v1/sims/${iccid}/top-ups`)).json<{ items: unknown[] }>().items).toHaveLength(1);

    await t.restart();
    await engine().accounting(gateway, packet(6, 't2', { status: 'start' }));
    await engine().accounting(gateway, packet(6, 't2', { bytesIn: MB }));
    const id = added.json<{ id: string }>().id;
    expect((await records(iccid)).at(-1)!.pieces).toEqual([{ kind: 'top_up', bytes: MB, amountMicros: 0, ref: id }]);
    const { rows } = await sql<{ balance: { topUps: { id: string; remainingBytes: number }[] } }>`SELECT balance FROM sim_balances WHERE iccid = ${iccid}`.execute(db());
    expect(rows[0]!.balance.topUps).toEqual([{ id, remainingBytes: 2 * MB, expiresAtMs: Date.parse('2026-01-31T16:00:00Z') }]);
  });

  it('charges overage by the MB up to the cap, exactly', async () => {
    await assign('cn-1mb-overage', [2]);
    const iccid = iccidFor(2);
    await engine().accounting(gateway, packet(2, 'o1', { status: 'start' }));
    await engine().accounting(gateway, packet(2, 'o1', { bytesIn: MB + MB / 2 }));
    expect((await records(iccid)).map((r) => r.charge_micros)).toEqual([500_000]);
    await engine().accounting(gateway, packet(2, 'o1', { bytesIn: 10 * MB }));
    const charges = (await records(iccid)).map((r) => r.charge_micros);
    expect(charges).toEqual([500_000, 2_000_000]);
    expect((await stateOf(iccid)).state).toBe('active');
  });

  it('draws the SIMs of a pooled plan from one pool sized by its members', async () => {
    await assign('cn-pool', [3, 4]);
    await engine().accounting(gateway, packet(3, 'p3', { status: 'start' }));
    await engine().accounting(gateway, packet(3, 'p3', { bytesIn: MB + MB / 2 }));
    await engine().accounting(gateway, packet(4, 'p4', { status: 'start' }));
    await engine().accounting(gateway, packet(4, 'p4', { bytesIn: MB / 4 }));
    const { rows } = await sql<{ size_bytes: number; remaining_bytes: number }>`
      SELECT size_bytes, remaining_bytes FROM pool_balances WHERE plan_id = 'cn-pool' AND cycle = '2026-01'`.execute(db());
    expect(rows.map((r) => [Number(r.size_bytes), Number(r.remaining_bytes)])).toEqual([[2 * MB, MB / 4]]);
    expect((await records(iccidFor(3)))[0]!.pieces).toEqual([{ kind: 'pool', bytes: MB + MB / 2, amountMicros: 0, ref: null }]);
    expect((await stateOf(iccidFor(3))).state).toBe('active');
  });

  it('rates CDR records by the same plans, and keeps balances across a restart', async () => {
    await assign('cn-1mb-overage', [5]);
    const iccid = iccidFor(5);
    const cdr = ['record_id,iccid,start_time,end_time,bytes_up,bytes_down,mcc_mnc', `r-5-1,${iccid},2026-01-15T01:00:00Z,2026-01-15T01:30:00Z,${MB},${MB},46000`].join('\n');
    await t.api('POST', '/api/v1/usage/cdr-imports', cdr, { headers: { 'content-type': 'text/csv' } });
    await t.drainJobs();
    expect((await records(iccid)).map((r) => [r.bytes, r.charge_micros])).toEqual([[2 * MB, 1_000_000]]);
    await t.restart();
    await engine().accounting(gateway, packet(5, 'c5', { status: 'start' }));
    await engine().accounting(gateway, packet(5, 'c5', { bytesIn: MB }));
    expect((await records(iccid)).map((r) => r.charge_micros)).toEqual([1_000_000, 1_000_000]);
  });
});
