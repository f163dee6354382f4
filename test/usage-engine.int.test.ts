import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimIndex } from '../src/engine/sim-index.ts';
import { UsageEngine } from '../src/engine/usage-engine.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, msisdnFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const gateway = { id: 'gw_test', accountId: '' };

const packet = accountingInput;

describe.each(testDialects())('usage engine on %s', (dialect) => {
  let t: TestPlatform;
  let engine: UsageEngine;
  const transitions: string[] = [];
  const newEngine = () =>
    new UsageEngine(t.platform.services.db, t.clock, new SimIndex(t.platform.services.db), pino({ level: 'silent' }), { maxBatch: 500, maxQueue: 10_000, sessionTimeoutSeconds: 1800 }, {
      onTransitionNeeded: (sim, to, reason) => transitions.push(`${sim.iccid}:${to}:${reason}`),
    });
  const usageSum = async (iccid: string) => {
    const { rows } = await sql<{ b: number }>`SELECT coalesce(sum(bytes_in + bytes_out), 0)::bigint AS b FROM usage_records WHERE iccid = ${iccid}`.execute(t.platform.services.db);
    return Number(rows[0]!.b);
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 8));
    await t.drainJobs();
    engine = newEngine();
    await engine.start();
  });
  afterAll(() => t?.close());

  it('counts cumulative counters once, whatever duplicates and late packets arrive', async () => {
    const iccid = iccidFor(1);
    expect(await engine.accounting(gateway, packet({ status: 'start' }))).toBe('recorded');
    await engine.accounting(gateway, packet({ bytesIn: 1000, bytesOut: 200 }));
    await engine.accounting(gateway, packet({ bytesIn: 1000, bytesOut: 200 })); // retransmission
    await engine.accounting(gateway, packet({ bytesIn: 5000, bytesOut: 700 }));
    await engine.accounting(gateway, packet({ bytesIn: 3000, bytesOut: 500 })); // late, older
    await engine.accounting(gateway, packet({ status: 'stop', bytesIn: 2 ** 32 + 10, bytesOut: 900, terminateCause: 'user-request' }));
    expect(await usageSum(iccid)).toBe(2 ** 32 + 10 + 900);
    const sim = (await t.api('GET', `/api/v1/sims/${iccid}`)).json();
    expect(sim).toBeDefined();
    const { rows } = await sql<{ status: string; bytes_in: number; stop_cause: string }>`SELECT status, bytes_in, stop_cause FROM radius_sessions WHERE id = 'gw_test:s1'`.execute(t.platform.services.db);
    expect(rows[0]).toMatchObject({ status: 'stop', stop_cause: 'user-request' });
    expect(Number(rows[0]!.bytes_in)).toBe(2 ** 32 + 10);
  });

  it('writes a handover (new cell, RAT, serving network) to the session row and keeps it when later packets carry none', async () => {
    const row = async () =>
      (await sql<{ rat: string; mcc_mnc: string; cell: Record<string, unknown>; bytes_in: number; status: string }>`
        SELECT rat, mcc_mnc, cell, bytes_in, status FROM radius_sessions WHERE id = 'gw_test:ho'`.execute(t.platform.services.db)).rows[0]!;
    const ho = { acctSessionId: 'ho', imsi: imsiFor(6) };
    await engine.accounting(gateway, packet({ ...ho, status: 'start' }));
    await engine.accounting(gateway, packet({ ...ho, bytesIn: 100, rat: '5G', mccMnc: '46001', cell: { tac: 7, nci: 99 } }));
    expect(await row()).toMatchObject({ rat: '5G', mcc_mnc: '46001', cell: { tac: 7, nci: 99 }, status: 'alive' });
    await engine.accounting(gateway, packet({ ...ho, bytesIn: 300, rat: null, mccMnc: null, cell: null }));
    expect(await row()).toMatchObject({ rat: '5G', mcc_mnc: '46001', cell: { tac: 7, nci: 99 } });
    expect(Number((await row()).bytes_in)).toBe(300);
    await engine.accounting(gateway, packet({ ...ho, bytesIn: 400, rat: '5G', cell: { tac: 7, nci: 100 } }));
    expect((await row()).cell).toEqual({ tac: 7, nci: 100 });
  });

  it('finds the SIM by any IMSI or by MSISDN, and reports unknown SIMs', async () => {
    expect(await engine.accounting(gateway, packet({ acctSessionId: 's2', imsi: null, msisdn: msisdnFor(2), bytesIn: 10 }))).toBe('recorded');
    expect(await usageSum(iccidFor(2))).toBe(10);
    expect(await engine.accounting(gateway, packet({ acctSessionId: 's3', imsi: '460009999999999', msisdn: null }))).toBe('unknown_sim');
  });

  it('picks up after a restart from the committed counters (no double counting)', async () => {
    await engine.accounting(gateway, packet({ acctSessionId: 's4', imsi: imsiFor(3), status: 'start' }));
    await engine.accounting(gateway, packet({ acctSessionId: 's4', imsi: imsiFor(3), bytesIn: 700 }));
    engine = newEngine();
    await engine.start();
    await engine.accounting(gateway, packet({ acctSessionId: 's4', imsi: imsiFor(3), bytesIn: 700 }));
    await engine.accounting(gateway, packet({ acctSessionId: 's4', imsi: imsiFor(3), bytesIn: 900 }));
    expect(await usageSum(iccidFor(3))).toBe(900);
  });

  it('holds several sessions of one SIM at once and lists only the open ones for enforcement', async () => {
    const imsi = imsiFor(7);
    const open = () => engine.openSessionsOf(iccidFor(7)).map((s) => s.acctSessionId).sort();
    for (const id of ['m1', 'm2', 'm3']) await engine.accounting(gateway, packet({ acctSessionId: id, imsi, status: 'start' }));
    expect(open()).toEqual(['m1', 'm2', 'm3']);
    await engine.accounting(gateway, packet({ acctSessionId: 'm2', imsi, status: 'stop', bytesIn: 50 }));
    expect(open()).toEqual(['m1', 'm3']);
    for (const id of ['m1', 'm3']) await engine.accounting(gateway, packet({ acctSessionId: id, imsi, status: 'stop', bytesIn: 10 }));
    expect(open()).toEqual([]);
  });

  it('forgets a session 30 s after its Stop and still counts its late packets once, from its row', async () => {
    const late = { acctSessionId: 'late', imsi: imsiFor(8) };
    const before = await usageSum(iccidFor(8));
    await engine.accounting(gateway, packet({ ...late, status: 'start' }));
    await engine.accounting(gateway, packet({ ...late, status: 'stop', bytesIn: 800 }));
    const stopped = engine.heldSessions().stopped;
    t.clock.advance(20_000);
    await engine.expireSessions();
    expect(engine.heldSessions().stopped).toBe(stopped);
    t.clock.advance(11_000);
    await engine.expireSessions();
    expect(engine.heldSessions().stopped).toBe(0);
    expect(await engine.accounting(gateway, packet({ ...late, status: 'stop', bytesIn: 800 }))).toBe('recorded');
    await engine.accounting(gateway, packet({ ...late, bytesIn: 500 }));
    expect(await usageSum(iccidFor(8)) - before).toBe(800);
  });

  it('closes the sessions of a gateway that restarts (Accounting-On)', async () => {
    await engine.accounting(gateway, packet({ acctSessionId: 's5', imsi: imsiFor(4), status: 'start' }));
    expect(engine.openSessionsOf(iccidFor(4))).toHaveLength(1);
    expect(await engine.accounting(gateway, packet({ status: 'accounting-on', acctSessionId: null }))).toBe('gateway_reset');
    expect(engine.openSessionsOf(iccidFor(4))).toHaveLength(0);
    const { rows } = await sql<{ status: string; stop_cause: string }>`SELECT status, stop_cause FROM radius_sessions WHERE id = 'gw_test:s5'`.execute(t.platform.services.db);
    expect(rows[0]).toEqual({ status: 'stop', stop_cause: 'nas-reboot' });
  });

  it('keeps today and cycle usage on the SIM row, and asks to activate a silent SIM on first use', async () => {
    await t.api('POST', `/api/v1/sims/${iccidFor(5)}/state`, { state: 'silent' });
    await engine.sims.refresh(iccidFor(5));
    await engine.accounting(gateway, packet({ acctSessionId: 's6', imsi: imsiFor(5), status: 'start' }));
    await engine.accounting(gateway, packet({ acctSessionId: 's6', imsi: imsiFor(5), bytesIn: 100, bytesOut: 23 }));
    const { rows } = await sql<{ usage_day_bytes: number; usage_cycle_bytes: number; connection_state: string; usage_day: string }>`
      SELECT usage_day, usage_day_bytes, usage_cycle_bytes, connection_state FROM sims WHERE iccid = ${iccidFor(5)}`.execute(t.platform.services.db);
    expect(rows[0]).toMatchObject({ connection_state: 'alive', usage_day: '2026-01-15' });
    expect(Number(rows[0]!.usage_day_bytes)).toBe(123);
    expect(transitions).toContain(`${iccidFor(5)}:active:first network attach ended the silent period`);
  });

  it('rolls memory back and answers nothing when the commit fails', async () => {
    const db = t.platform.services.db;
    await sql`ALTER TABLE usage_records ADD CONSTRAINT block_big CHECK (bytes_in <> 2000000) NOT VALID`.execute(db);
    await engine.accounting(gateway, packet({ acctSessionId: 's7', imsi: imsiFor(2), status: 'start' }));
    await expect(engine.accounting(gateway, packet({ acctSessionId: 's7', imsi: imsiFor(2), bytesIn: 2_000_000 }))).rejects.toThrow();
    await sql`ALTER TABLE usage_records DROP CONSTRAINT block_big`.execute(db);
    await engine.accounting(gateway, packet({ acctSessionId: 's7', imsi: imsiFor(2), bytesIn: 2_000_000 }));
    expect(await usageSum(iccidFor(2))).toBe(10 + 2_000_000);
  });

  it('refuses a packet when the commit queue is full without counting it, so its retransmission counts once', async () => {
    const db = t.platform.services.db;
    const small = new UsageEngine(db, t.clock, new SimIndex(db), pino({ level: 'silent' }), { maxBatch: 10, maxQueue: 1, sessionTimeoutSeconds: 1800 });
    await small.start();
    // NOTE: Start packets of new sessions need no database read, so both reach the queue in this same turn.
    const first = small.accounting(gateway, packet({ status: 'start', acctSessionId: 'bp1', imsi: imsiFor(5), bytesIn: 100 }));
    await expect(small.accounting(gateway, packet({ status: 'start', acctSessionId: 'bp2', imsi: imsiFor(5), bytesIn: 50 }))).rejects.toThrow('commit queue full');
    await first;
    expect(await small.accounting(gateway, packet({ status: 'start', acctSessionId: 'bp2', imsi: imsiFor(5), bytesIn: 50 }))).toBe('recorded');
    const { rows } = await sql<{ b: string }>`SELECT sum(bytes_in)::text AS b FROM usage_records WHERE session_id IN ('gw_test:bp1', 'gw_test:bp2')`.execute(db);
    expect(Number(rows[0]!.b)).toBe(150);
  });
});
