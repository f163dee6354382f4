import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const header = 'record_id,iccid,imsi,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn';

describe.each(testDialects())('CDR import on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 3));
    await t.drainJobs();
  });
  afterAll(() => t?.close());

  const total = async (iccid: string) => {
    const { rows } = await sql<{ b: string }>`SELECT coalesce(sum(bytes_in + bytes_out), 0) AS b FROM usage_records WHERE iccid = ${iccid}`.execute(t.platform.services.db);
    return Number(rows[0]!.b);
  };

  it('records valid rows, reports bad ones, and ignores duplicates by record id', async () => {
    const csv = [
      header,
      `r1,${iccidFor(1)},,2026-01-15T08:00:00+08:00,2026-01-15T08:30:00+08:00,1000,4000,46000,iot`,
      `r2,,${imsiFor(2)},2026-01-15T09:00:00Z,2026-01-15T09:10:00Z,10,20,46001,iot`,
      `r1,${iccidFor(1)},,2026-01-15T08:00:00+08:00,2026-01-15T08:30:00+08:00,1000,4000,46000,iot`,
      `r3,${iccidFor(1)},,2026-01-15T08:00:00,2026-01-15T08:30:00,1,1,46000,iot`,
      `r4,${iccidFor(99)},,2026-01-15T08:00:00Z,2026-01-15T08:30:00Z,1,1,46000,iot`,
      `r5,${iccidFor(3)},,2026-01-15T08:00:00Z,2026-01-15T08:30:00Z,-5,1,46000,iot`,
    ].join('\n');
    const res = await t.api('POST', '/api/v1/usage/cdr-imports', csv);
    expect(res.statusCode).toBe(202);
    await t.drainJobs();
    const job = (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({ status: 'completed', kind: 'cdr_import', summary: { rows: 6, recorded: 2, duplicates: 1, failed: 3, bytes: 5030 } });
    const failed = (await t.api('GET', `/api/v1/jobs/${job.id}/results?ok=false`)).json().items.map((r: { code: string }) => r.code);
    expect(failed).toEqual(['invalid_time', 'unknown_sim', 'invalid_bytes']);
    expect(await total(iccidFor(1))).toBe(5000);
    expect(await total(iccidFor(2))).toBe(30);

    const again = await t.api('POST', '/api/v1/usage/cdr-imports', csv);
    await t.drainJobs();
    expect((await t.api('GET', `/api/v1/jobs/${again.json().id}`)).json().summary).toMatchObject({ recorded: 0, duplicates: 3 });
    expect(await total(iccidFor(1))).toBe(5000);
  });

  it('refuses a file without the required columns, naming them', async () => {
    const res = await t.api('POST', '/api/v1/usage/cdr-imports', 'record_id,iccid,colour\n1,2,3\n');
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain('unknown column(s) colour');
    expect(res.json().detail).toContain('missing required column(s) start_time');
  });

  it('only counts SIMs the importing account can see', async () => {
    const tenant = await createTenant(t, 'reseller', 'R');
    const csv = `${header}\nx1,${iccidFor(3)},,2026-01-15T08:00:00Z,2026-01-15T08:30:00Z,5,5,46000,iot\n`;
    const res = await t.api('POST', '/api/v1/usage/cdr-imports', csv, { key: tenant.key });
    await t.drainJobs();
    expect((await t.api('GET', `/api/v1/jobs/${res.json().id}`, undefined, { key: tenant.key })).json().summary).toMatchObject({ recorded: 0, failed: 1 });
    expect(await total(iccidFor(3))).toBe(0);
  });
});

describe('CDR drop folder', () => {
  let t: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    dir = mkdtempSync(`${tmpdir()}/meridian-cdr-`);
    t = await startTestPlatform('pglite', { CDR_DROP_DIR: dir, CDR_POLL_INTERVAL_MS: '60000' });
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 1));
    await t.drainJobs();
  });
  afterAll(() => t?.close());

  it('imports CSV files dropped in the folder and moves them aside; rejects files it cannot read', async () => {
    const { writeFileSync, readdirSync, readFileSync } = await import('node:fs');
    writeFileSync(`${dir}/day1.csv`, `${header}\nd1,${iccidFor(1)},,2026-01-15T08:00:00Z,2026-01-15T08:30:00Z,100,200,46000,iot\n`);
    writeFileSync(`${dir}/broken.csv`, 'what,is,this\n');
    writeFileSync(`${dir}/notes.txt`, 'not a CDR file');
    const folder = t.platform.cdrDropFolder!;
    await folder.start();
    await folder.scan();
    await t.drainJobs();
    expect(await total(iccidFor(1))).toBe(300);
    expect(readdirSync(`${dir}/imported`).some((f) => f.endsWith('day1.csv'))).toBe(true);
    const rejected = readdirSync(`${dir}/rejected`);
    expect(rejected.some((f) => f.endsWith('broken.csv'))).toBe(true);
    const why = rejected.find((f) => f.endsWith('.error.txt'))!;
    expect(readFileSync(`${dir}/rejected/${why}`, 'utf8')).toContain('invalid_csv_header');
    expect(readdirSync(dir)).toContain('notes.txt');
    await folder.stop();
  });

  const total = async (iccid: string) => {
    const { rows } = await sql<{ b: string }>`SELECT coalesce(sum(bytes_in + bytes_out), 0) AS b FROM usage_records WHERE iccid = ${iccid}`.execute(t.platform.services.db);
    return Number(rows[0]!.b);
  };
});
