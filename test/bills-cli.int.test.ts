import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCliServer } from './support/cli.ts';
import { iccidFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_bills_cli_0123456789abcdefghijk';

describe('meridian bills commands', () => {
  const harness = useCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false' });
  const { cli, json } = harness;

  beforeAll(async () => {
    expect((await cli(['zones', 'add', 'CN', '--name', 'China', '--country', 'CN'])).code).toBe(0);
    expect((await cli(['plans', 'create', 'CN-10', '--name', 'China 10 MB', '--fee', '12.30', '--data', '10MB', '--zone', 'CN'])).code).toBe(0);
    expect((await cli(['sims', 'import', '-'], simCsv(1, 2))).code).toBe(0);
    for (const serial of [1, 2]) {
      expect((await cli(['sims', 'set-state', iccidFor(serial), 'active'])).code).toBe(0);
      expect((await cli(['sims', 'set-plan', iccidFor(serial), 'CN-10'])).code).toBe(0);
    }
    // Both SIMs were active all of the month before this one.
    const db = harness.server.platform.services.db;
    await sql`UPDATE sims SET activated_at = activated_at - interval '70 days'`.execute(db);
  });

  const lastMonth = (() => {
    const d = new Date();
    const local = new Date(d.getTime() + 8 * 3_600_000); // Asia/Shanghai
    const y = local.getUTCMonth() === 0 ? local.getUTCFullYear() - 1 : local.getUTCFullYear();
    const m = local.getUTCMonth() === 0 ? 12 : local.getUTCMonth();
    return `${y}-${String(m).padStart(2, '0')}`;
  })();

  it('runs, lists, shows, reconciles and exports a bill', async () => {
    const bad = await cli(['bills', 'run', '2026-13']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('YYYY-MM');
    const runs = await cli(['bills', 'run', lastMonth]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(new RegExp(`^${lastMonth}: 1 created, 0 replaced, 0 kept; 0 usage records; billed 24.60 CNY in \\d+ ms\\n$`));
    const list = json(await cli(['bills', 'list', '--month', lastMonth, '--json']));
    expect(list.items).toHaveLength(1);
    const id = list.items[0].id as string;
    const show = await cli(['bills', 'show', id]);
    expect(show.stdout).toMatch(/1 {2}monthly_fee {2}CN-10 {2}- {2,}2 {2,}- {2,}24\.60/);
    const rec = await cli(['bills', 'reconcile', id]);
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stdout).toMatch(/Result\s+balanced/);
    const out = join(harness.dir, 'bill.xlsx');
    const exp = await cli(['bills', 'export', id, '--format', 'xlsx', '--out', out]);
    expect(exp.code, exp.stderr).toBe(0);
    expect((await readFile(out)).subarray(0, 2).toString()).toBe('PK'); // a zip container
    const csv = await cli(['bills', 'export', id, '--lang', 'zh', '--out', '-']);
    expect(csv.stdout).toContain('月功能费');
    const missing = await cli(['bills', 'show', 'bill_nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('bill_not_found');
  });

  it('shows SMS and top-up lines, the top-up paid by an order marked so', async () => {
    const db = harness.server.platform.services.db;
    const at = new Date(`${lastMonth}-15T04:00:00Z`);
    const account = (await sql<{ account_id: string }>`SELECT account_id FROM sims WHERE iccid = ${iccidFor(1)}`.execute(db)).rows[0]!.account_id;
    await sql`
      INSERT INTO sms_records (dedupe_key, sms_id, account_id, iccid, direction, parts, plan_id, cycle, test_parts, included_parts, charged_parts, charge_micros, at)
      VALUES ('mt:sms_cli_1', 'sms_cli_1', ${account}, ${iccidFor(1)}, 'mt', 3, 'CN-10', ${lastMonth}, 0, 0, 3, 300000, ${at})`.execute(db);
    await sql`
      INSERT INTO top_ups (id, account_id, iccid, bytes, expires_at, created_by, created_at, product_id, price_micros, currency, order_id)
      VALUES ('top_cli_1', ${account}, ${iccidFor(2)}, 104857600, ${at}, 'order:ord_cli', ${at}, 'cn-100mb', 5000000, 'CNY', 'ord_cli')`.execute(db);
    expect((await cli(['bills', 'run', lastMonth, '--rerun'])).code).toBe(0);
    const id = json(await cli(['bills', 'list', '--month', lastMonth, '--json'])).items[0].id as string;
    const show = await cli(['bills', 'show', id]);
    expect(show.stdout).toMatch(/2 +sms +CN-10 +- +3 +- +0\.30 +messages/);
    expect(show.stdout).toMatch(/3 +top_up +cn-100mb +- +1 +100\.0 MiB +0\.00 +paid by order ord_cli/);
    const rec = await cli(['bills', 'reconcile', id]);
    expect(rec.code, rec.stdout).toBe(0);
  });
});
