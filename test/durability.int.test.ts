import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const DAY = 86_400_000;

describe.each(testDialects())('restarts on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 5000));
    await t.drainJobs();
  }, 120_000);
  afterAll(() => t?.close());

  it('takes automatic transitions that fell due while the platform was down', async () => {
    expect((await t.api('POST', `/api/v1/sims/${iccidFor(1)}/state`, { state: 'silent', periodDays: 5 })).statusCode).toBe(200);
    expect((await t.api('POST', `/api/v1/sims/${iccidFor(2)}/state`, { state: 'deactivated' })).statusCode).toBe(200);
    await t.restart();
    t.clock.advance(6 * DAY);
    await t.platform.scheduler.tick();
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(1)}`)).json()).toMatchObject({ state: 'active', stateDueAt: null });
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(2)}`)).json().state).toBe('deactivated');
    t.clock.advance(t.config.lifecycle.deactivatedRetireDays * DAY);
    await t.platform.scheduler.tick();
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(2)}`)).json().state).toBe('retired');
    const [change] = (await t.api('GET', `/api/v1/sims/${iccidFor(2)}/changes`)).json().items;
    expect(change).toMatchObject({ oldValue: 'deactivated', newValue: 'retired', source: 'system', actor: 'system:lifecycle' });
  });

  it('resumes a bulk job interrupted by a stop, counting each SIM once', async () => {
    t.simulator.setBehaviour({ delayMs: 5 });
    const res = await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } } });
    const jobId = res.json().id as string;
    const total = res.json().total as number;
    await new Promise((r) => setTimeout(r, 150));
    await t.platform.runner.stop();
    const interrupted = (await t.api('GET', `/api/v1/jobs/${jobId}`)).json();
    expect(interrupted.status).toBe('running');
    expect(interrupted.done).toBeLessThan(total);

    await t.restart();
    t.simulator.setBehaviour({ delayMs: 0 });
    await t.platform.startWorkers();
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${jobId}`)).json();
    expect(job).toMatchObject({ status: 'completed', done: total, failed: 0 });
    expect(job.summary.succeeded + job.summary.unchanged).toBe(total);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM change_records WHERE job_id = ${jobId} AND status = 'completed'`.execute(t.platform.services.db);
    expect(rows[0]!.n).toBe(total);
    expect((await t.api('GET', '/api/v1/sims?state=inventory')).json().items).toEqual([]);
  }, 60_000);

  it('marks a state change left pending by a crash as failed at the next start', async () => {
    const db = t.platform.services.db;
    await sql`INSERT INTO change_records (account_id, iccid, field, old_value, new_value, source, status, created_at)
              VALUES (${t.operatorAccountId}, ${iccidFor(3)}, 'state', 'active', 'suspended', 'api', 'pending', now())`.execute(db);
    await t.restart();
    await t.platform.startWorkers();
    const [record] = (await t.api('GET', `/api/v1/sims/${iccidFor(3)}/changes?field=state`)).json().items;
    expect(record).toMatchObject({ newValue: 'suspended', status: 'failed' });
    expect(record.error).toContain('interrupted by a stop');
  });

  it('pauses before trying again an automatic transition the network refused', async () => {
    const iccid = iccidFor(4);
    await t.api('POST', `/api/v1/sims/${iccid}/state`, { state: 'suspended' });
    await t.api('POST', `/api/v1/sims/${iccid}/state`, { state: 'deactivated', periodDays: 1 });
    t.simulator.setBehaviour({ failIccids: [iccid] });
    t.clock.advance(2 * DAY);
    await t.platform.scheduler.tick();
    await t.platform.scheduler.tick();
    const failed = (await t.api('GET', `/api/v1/sims/${iccid}/changes?status=failed`)).json().items;
    expect(failed).toHaveLength(1);
    const sim = (await t.api('GET', `/api/v1/sims/${iccid}`)).json();
    expect(sim.state).toBe('deactivated');
    expect(new Date(sim.stateDueAt).getTime()).toBe(t.clock.now().getTime() + 10 * 60_000);
    t.simulator.setBehaviour({ failIccids: [] });
    t.clock.advance(11 * 60_000);
    await t.platform.scheduler.tick();
    expect((await t.api('GET', `/api/v1/sims/${iccid}`)).json().state).toBe('retired');
  });
});
