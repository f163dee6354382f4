import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const FLEET = 100_000;

describe.each(testDialects())('bulk changes on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    const res = await t.api('POST', '/api/v1/sims/imports', simCsv(1, FLEET, (i) => (i % 2 ? 'odd' : 'even')));
    expect(res.statusCode).toBe(202);
    await t.drainJobs();
  }, 300_000);
  afterAll(() => t?.close());

  it('activates 100,000 SIMs selected by filter in one job, with progress and per-SIM results', async () => {
    const res = await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } }, reason: 'rollout' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'queued', total: FLEET, done: 0 });
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({ status: 'completed', total: FLEET, done: FLEET, failed: 0, summary: { succeeded: FLEET } });
    const list = (await t.api('GET', '/api/v1/sims?state=active&limit=1')).json();
    expect(list.items).toHaveLength(1);
    const results = (await t.api('GET', `/api/v1/jobs/${job.id}/results?limit=3`)).json();
    expect(results.items[0]).toMatchObject({ ok: true, code: 'changed' });
    const changes = (await t.api('GET', `/api/v1/changes?jobId=${job.id}&limit=1`)).json();
    expect(changes.items[0]).toMatchObject({ field: 'state', oldValue: 'inventory', newValue: 'active', status: 'completed', reason: 'rollout' });
  }, 600_000);

  it('reports failures per SIM: illegal transitions, provisioning failures and unknown ICCIDs', async () => {
    t.simulator.setBehaviour({ failIccids: [iccidFor(2)] });
    const res = await t.api('POST', '/api/v1/bulk-jobs', {
      selection: { iccids: [iccidFor(1), iccidFor(2), iccidFor(FLEET + 5)] },
      change: { state: { state: 'suspended', suspendReason: 'user' } },
    });
    await t.drainJobs();
    t.simulator.setBehaviour({ failIccids: [] });
    const results = (await t.api('GET', `/api/v1/jobs/${res.json().id}/results`)).json().items;
    const bySim = Object.fromEntries(results.map((r: { subject: string; code: string }) => [r.subject, r.code]));
    expect(bySim).toEqual({ [iccidFor(1)]: 'changed', [iccidFor(2)]: 'provisioning_failed', [iccidFor(FLEET + 5)]: 'sim_not_found' });
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(1)}`)).json()).toMatchObject({ state: 'suspended', suspendReason: 'user' });
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(2)}`)).json().state).toBe('active');

    const illegal = await t.api('POST', '/api/v1/bulk-jobs', { selection: { iccids: [iccidFor(1)] }, change: { state: { state: 'test' } } });
    await t.drainJobs();
    const [r] = (await t.api('GET', `/api/v1/jobs/${illegal.json().id}/results`)).json().items;
    expect(r).toMatchObject({ ok: false, code: 'illegal_transition' });
  });

  it('dry run reports what would change and writes nothing', async () => {
    const res = await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { label: ['odd'] } }, change: { update: { addLabels: ['fleet-a'] } }, dryRun: true });
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({ dryRun: true, status: 'completed', total: FLEET / 2, summary: { succeeded: FLEET / 2 } });
    expect((await t.api('GET', '/api/v1/sims?label=fleet-a&limit=1')).json().items).toEqual([]);
  });

  it('changes group, labels and custom fields in bulk with change records', async () => {
    const group = (await t.api('POST', '/api/v1/groups', { name: 'trucks' })).json();
    const iccids = [iccidFor(10), iccidFor(11)];
    const res = await t.api('POST', '/api/v1/bulk-jobs', {
      selection: { iccids },
      change: { update: { groupId: group.id, addLabels: ['fleet-b'], customFields: { plate: 'SH-1' } } },
    });
    await t.drainJobs();
    expect((await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json().summary).toMatchObject({ succeeded: 2 });
    const listed = (await t.api('GET', `/api/v1/sims?groupId=${group.id}&label=fleet-b&cf.plate=SH-1`)).json().items;
    expect(listed.map((s: { iccid: string }) => s.iccid).sort()).toEqual(iccids.sort());
    const fields = (await t.api('GET', `/api/v1/sims/${iccidFor(10)}/changes`)).json().items.map((c: { field: string }) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['group', 'labels', 'custom_fields.plate']));
  });

  it('honours Idempotency-Key: the same request returns the same job, another body is refused', async () => {
    const body = { selection: { iccids: [iccidFor(20)] }, change: { update: { addLabels: ['idem'] } } };
    const headers = { 'idempotency-key': 'bulk-20' };
    const first = await t.api('POST', '/api/v1/bulk-jobs', body, { headers });
    const again = await t.api('POST', '/api/v1/bulk-jobs', body, { headers });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const other = await t.api('POST', '/api/v1/bulk-jobs', { ...body, reason: 'different' }, { headers });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    await t.drainJobs();
    expect((await t.api('GET', '/api/v1/jobs?kind=bulk_change&limit=1000')).json().items.filter((j: { id: string }) => j.id === first.json().id)).toHaveLength(1);
  });
});
