import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const N = 40;

describe.each(testDialects())('concurrent requests on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, N));
    await t.drainJobs();
  });
  afterAll(() => t?.close());

  it('keeps every transaction separate when many writes and reads overlap', async () => {
    t.simulator.setBehaviour({ delayMs: 5, failIccids: [iccidFor(N)] });
    const calls = [];
    for (let i = 1; i <= N; i++) {
      calls.push(t.api('POST', `/api/v1/sims/${iccidFor(i)}/state`, { state: 'active' }));
      calls.push(t.api('PATCH', `/api/v1/sims/${iccidFor(i)}`, { addLabels: [`l${i}`] }));
      calls.push(t.api('GET', `/api/v1/sims?limit=5`));
    }
    const responses = await Promise.all(calls);
    t.simulator.setBehaviour({ delayMs: 0, failIccids: [] });
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3 * N - 1);
    expect(statuses.filter((s) => s === 502)).toHaveLength(1);

    const sims = (await t.api('GET', `/api/v1/sims?limit=${N}`)).json().items as { iccid: string; state: string; labels: string[] }[];
    for (const [i, sim] of sims.entries()) {
      expect(sim.state).toBe(i + 1 === N ? 'inventory' : 'active');
      expect(sim.labels).toEqual([`l${i + 1}`]);
    }
    const records = (await t.api('GET', `/api/v1/changes?limit=1000`)).json().items as { field: string; status: string }[];
    expect(records.filter((r) => r.field === 'state' && r.status === 'completed')).toHaveLength(N - 1 + N); // imports + activations
    expect(records.filter((r) => r.status === 'failed')).toHaveLength(1);
    expect(records.filter((r) => r.status === 'pending')).toHaveLength(0);
    expect(records.filter((r) => r.field === 'labels')).toHaveLength(N);
  });
});
