import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

describe.each(testDialects())('SIM inventory and lifecycle on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
  });
  afterAll(() => t?.close());

  it('imports SIMs from CSV as a job with per-row results, and re-importing changes nothing', async () => {
    const csv = `${simCsv(1, 3)}${iccidFor(4).slice(0, -1)}0,${imsiFor(4)},,B1,\n${iccidFor(1)},${imsiFor(9)},,B1,\n`;
    const res = await t.api('POST', '/api/v1/sims/imports', csv);
    expect(res.statusCode).toBe(202);
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({ status: 'completed', total: 5, done: 5, failed: 2, summary: { created: 3, failed: 2, unchanged: 0 } });
    const failed = (await t.api('GET', `/api/v1/jobs/${job.id}/results?ok=false`)).json().items;
    expect(failed.map((r: { code: string }) => r.code)).toEqual(['invalid_iccid_check_digit', 'duplicate_in_file']);

    const again = await t.api('POST', '/api/v1/sims/imports', simCsv(1, 3));
    await t.drainJobs();
    const second = (await t.api('GET', `/api/v1/jobs/${again.json().id}`)).json();
    expect(second.summary).toMatchObject({ created: 0, unchanged: 3, failed: 0 });
  });

  it('moves a SIM through the lifecycle and rejects illegal transitions naming the allowed targets', async () => {
    const iccid = iccidFor(1);
    const toTest = await t.api('POST', `/api/v1/sims/${iccid}/state`, { state: 'test', periodDays: 30 });
    expect(toTest.statusCode).toBe(200);
    expect(toTest.json().sim.state).toBe('test');
    const illegal = await t.api('POST', `/api/v1/sims/${iccid}/state`, { state: 'retired' });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json()).toMatchObject({ code: 'illegal_transition' });
    expect(illegal.json().detail).toContain('active, suspended, deactivated');

    t.clock.advance(31 * 86_400_000);
    await t.platform.scheduler.tick();
    const sim = (await t.api('GET', `/api/v1/sims/${iccid}`)).json();
    expect(sim.state).toBe('active');
    const changes = (await t.api('GET', `/api/v1/sims/${iccid}/changes?field=state`)).json().items;
    expect(changes[0]).toMatchObject({ oldValue: 'test', newValue: 'active', source: 'system', status: 'completed' });
  });

  it('leaves the SIM in its old state when provisioning fails, with a failed change record', async () => {
    const iccid = iccidFor(2);
    t.simulator.setBehaviour({ failIccids: [iccid] });
    const res = await t.api('POST', `/api/v1/sims/${iccid}/state`, { state: 'active' });
    t.simulator.setBehaviour({ failIccids: [] });
    expect(res.statusCode).toBe(502);
    expect(res.json().code).toBe('provisioning_failed');
    expect((await t.api('GET', `/api/v1/sims/${iccid}`)).json().state).toBe('inventory');
    const [record] = (await t.api('GET', `/api/v1/changes?iccid=${iccid}&status=failed`)).json().items;
    expect(record).toMatchObject({ field: 'state', oldValue: 'inventory', newValue: 'active', status: 'failed' });
    expect(record.error).toContain('rejected');
  });
});
