import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const header = 'record_id,iccid,imsi,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn';

describe.each(testDialects())('CDR import across a restart on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 100));
    await t.drainJobs();
  }, 120_000);
  afterAll(() => t?.close());

  it('resumes an import interrupted by a stop, counting each record once', async () => {
    // Several chunks, so that the stop comes between two of them.
    const count = 50_000;
    const lines = [header];
    let bytes = 0;
    for (let n = 0; n < count; n++) {
      const [up, down] = [n % 1000, (n * 7) % 5000];
      bytes += up + down;
      const minute = String(n % 60).padStart(2, '0');
      lines.push(`r${n},${iccidFor((n % 100) + 1)},,2026-01-15T00:${minute}:00Z,2026-01-15T00:${minute}:30Z,${up},${down},46000,iot`);
    }
    // The stop begins with the first commit of CDR records, so the job ends at the next chunk boundary.
    let stopped: Promise<void> | undefined;
    t.platform.network.usage.onCommit(() => {
      stopped ??= t.platform.runner.stop();
    });
    const jobId = (await t.api('POST', '/api/v1/usage/cdr-imports', lines.join('\n'))).json().id as string;
    for (let i = 0; i < 6000 && !stopped; i++) await new Promise((r) => setTimeout(r, 10));
    await stopped;
    const interrupted = (await t.api('GET', `/api/v1/jobs/${jobId}`)).json();
    expect(interrupted.status).toBe('running');
    expect(interrupted.done).toBeGreaterThan(0);
    expect(interrupted.done).toBeLessThan(count);

    await t.restart();
    await t.platform.startWorkers();
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${jobId}`)).json();
    expect(job).toMatchObject({ status: 'completed', done: count, failed: 0, summary: { rows: count, failed: 0 } });
    // Records stored before the stop are found again and skipped, so the summary counts them as duplicates.
    expect(job.summary.recorded + job.summary.duplicates).toBe(count);
    expect(job.summary.duplicates).toBeGreaterThan(0);
    const { rows } = await sql<{ records: number; bytes: string; hourly: string; figures: string }>`
      SELECT (SELECT count(*) FROM usage_records)::int AS records, (SELECT sum(bytes_in + bytes_out) FROM usage_records)::text AS bytes,
             (SELECT sum(bytes_in + bytes_out) FROM usage_hourly)::text AS hourly, (SELECT sum(usage_cycle_bytes) FROM sims)::text AS figures`.execute(
      t.platform.services.db,
    );
    expect(rows[0]).toEqual({ records: count, bytes: String(bytes), hourly: String(bytes), figures: String(bytes) });
  }, 120_000);
});
