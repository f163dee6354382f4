import { execFileSync } from 'node:child_process';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPdfFont } from '../src/modules/billing/pdf-font.ts';
import { insertPlanVersions, insertZones } from '../src/modules/rating/catalog.repository.ts';
import { createRatePlan, MB, type RatePlanInput } from '../src/modules/rating/rate-plan.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const gateway = { id: 'gw_bills', accountId: '' };

const plan = (over: Partial<RatePlanInput> & Pick<RatePlanInput, 'id'>) =>
  createRatePlan({
    name: `Plan ${over.id}`,
    effectiveFrom: new Date('2026-01-01T00:00:00Z'),
    monthlyFeeMicros: 10_000_000,
    includedBytes: MB,
    coverageZoneIds: ['CN'],
    overage: { pricePerMbMicros: 1_000_000, capMicros: null },
    outOfCoverage: { kind: 'rate', pricePerMbMicros: 5_000_000, zoneRates: [] },
    cutoffBytes: null,
    ratingIncrementBytes: 1,
    ...over,
  });

interface BillLineDto {
  kind: string;
  planId: string | null;
  zoneId: string | null;
  quantity: number;
  bytes: number;
  amountExact: string;
  amount: string;
  amountMinor: number;
}
interface BillDto {
  id: string;
  accountId: string;
  period: string;
  revision: number;
  total: string;
  totalMinor: number;
  usageRecords: number;
  lines: BillLineDto[];
}

/** pdftotext (poppler-utils) reads the PDF back; CI installs it, elsewhere the text check needs it too. */
function pdfText(pdf: Buffer): string | null {
  try {
    return execFileSync('pdftotext', ['-', '-'], { input: pdf }).toString('utf8');
  } catch (err) {
    if (process.env.CI === 'true' || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return null;
  }
}

describe.each(testDialects())('bills on %s', (dialect) => {
  let t: TestPlatform;
  let enterprise: { accountId: string; key: string };
  const engine = () => t.platform.services.usage;
  const db = () => t.platform.services.db;
  const packet = (serial: number, session: string, over: Parameters<typeof accountingInput>[0]) =>
    accountingInput({ acctSessionId: session, imsi: imsiFor(serial), framedIp: null, cell: null, ...over });
  const billOf = async (accountId: string, period: string, key?: string): Promise<BillDto> => {
    const list = (await t.api('GET', `/api/v1/bills?period=${period}&accountId=${accountId}`, undefined, { key })).json<{ items: { id: string }[] }>();
    expect(list.items).toHaveLength(1);
    return (await t.api('GET', `/api/v1/bills/${list.items[0]!.id}`, undefined, { key })).json<BillDto>();
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    const now = t.clock.now();
    await insertZones(db(), t.operatorAccountId, [
      { id: 'CN', name: 'China', countries: ['CN'], networks: [] },
      { id: 'EU', name: 'Europe', countries: ['DE', 'FR'], networks: [] },
    ], now);
    await insertPlanVersions(db(), t.operatorAccountId, [plan({ id: 'bill-cn' }), plan({ id: 'bill-prepaid', termMonths: 12 })], now);
    await engine().rating.reloadCatalog();
    enterprise = await createTenant(t, 'enterprise', 'Fleet Co 车队');
    await t.api('POST', `/api/v1/sims/imports?accountId=${enterprise.accountId}`, simCsv(1, 3));
    await t.api('POST', '/api/v1/sims/imports', simCsv(4, 1));
    await t.drainJobs();
    // Activated on 15 January (Shanghai): the first month is 17 of 31 days.
    await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } } });
    await t.drainJobs();
    for (const [serial, planId] of [[1, 'bill-cn'], [2, 'bill-cn'], [3, 'bill-prepaid'], [4, 'bill-cn']] as const) {
      const r = await t.api('PUT', `/api/v1/sims/${iccidFor(serial)}/plan`, { planId });
      expect(r.statusCode).toBe(200);
    }
    // SIM 1: 3 MB in China (1 MB included, 2 MB overage); SIM 2: 1 MB in Germany (roaming); SIM 3: prepaid, 512 KB.
    for (const [serial, bytes, mccMnc] of [[1, 3 * MB, '46000'], [2, MB, '26201'], [3, 512 * 1024, '46000'], [4, MB, '46000']] as const) {
      await engine().accounting(gateway, packet(serial, `b${serial}`, { status: 'start', mccMnc }));
      await engine().accounting(gateway, packet(serial, `b${serial}`, { bytesIn: bytes, mccMnc }));
    }
  });
  afterAll(() => t?.close());

  it('refuses to bill a month that is not over, and previews it', async () => {
    const run = await t.api('POST', '/api/v1/bills/runs', { period: '2026-01' });
    expect(run.statusCode).toBe(409);
    expect(run.json()).toMatchObject({ code: 'period_not_closed' });
    expect((await t.api('POST', '/api/v1/bills/runs', { period: '2026-13' })).statusCode).toBe(400);
    const preview = (await t.api('GET', `/api/v1/bills/preview?period=2026-01&accountId=${enterprise.accountId}`)).json<{ items: BillDto[] }>();
    expect(preview.items.map((b) => b.total)).toEqual(['17.97']);
    expect((await t.api('GET', '/api/v1/bills')).json()).toEqual({ items: [], nextCursor: null });
  });

  it('bills each account its prorated first-month fees and its rated usage by plan, zone and charge', async () => {
    t.clock.set(new Date('2026-02-03T00:00:00Z'));
    const run = await t.api('POST', '/api/v1/bills/runs', { period: '2026-01' });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ period: '2026-01', created: 2, replaced: 0, kept: 0, usageRecords: 4, totals: { CNY: '23.45' } }); // 17.97 + the operator's own SIM: 5.48 + its included data

    const bill = await billOf(enterprise.accountId, '2026-01', enterprise.key);
    expect(bill.lines.map((l) => [l.kind, l.planId, l.zoneId, l.quantity, l.bytes, l.amountExact, l.amount])).toEqual([
      ['first_month_fee', 'bill-cn', null, 2, 0, '10.967742', '10.97'], // 2 × 10 × 17/31
      ['usage_included', 'bill-prepaid', 'CN', 1, 512 * 1024, '0.00', '0.00'],
      ['overage', 'bill-cn', 'CN', 1, 3 * MB, '2.00', '2.00'], // 1 MB included, 2 MB at 1.00
      ['roaming', 'bill-cn', 'EU', 1, MB, '5.00', '5.00'],
    ]);
    expect(bill).toMatchObject({ total: '17.97', totalMinor: 1797, usageRecords: 3, revision: 1 });
    const events = (await t.api('GET', '/api/v1/events?type=bill.*', undefined, { key: enterprise.key })).json<{ items: { type: string; data: unknown }[] }>();
    expect(events.items).toEqual([expect.objectContaining({ type: 'bill.issued', data: { billId: bill.id, kind: 'retail', period: '2026-01', revision: 1, currency: 'CNY', total: '17.97', usageRecords: 3 } })]);

    // The bill's usage lines are the usage records of the account, to the micro.
    const { rows } = await sql<{ micros: string; records: string }>`
      SELECT sum(charge_micros) AS micros, count(*) AS records FROM usage_records WHERE account_id = ${enterprise.accountId}`.execute(db());
    expect(Number(rows[0]!.micros)).toBe(7_000_000);
    const rec = (await t.api('GET', `/api/v1/bills/${bill.id}/reconciliation`, undefined, { key: enterprise.key })).json<{ balanced: boolean; billed: { records: number; amountExact: string } }>();
    expect(rec).toMatchObject({ balanced: true, totalMatches: true, billed: { records: Number(rows[0]!.records), amountExact: '7.00' }, differences: [] });
  });

  it('keeps bills on a second run, shows a late record in the reconciliation, and replaces them on a re-run', async () => {
    expect((await t.api('POST', '/api/v1/bills/runs', { period: '2026-01' })).json()).toMatchObject({ created: 0, kept: 2 });
    const before = await billOf(enterprise.accountId, '2026-01');
    await sql`
      INSERT INTO usage_records (account_id, iccid, source, record_key, start_at, end_at, bytes_in, bytes_out, mcc_mnc, plan_id, charge_micros, zone_id, pieces, created_at)
      VALUES (${enterprise.accountId}, ${iccidFor(1)}, 'cdr', 'late-1', '2026-01-20T00:00:00Z', '2026-01-20T01:00:00Z', ${MB}, 0, '46000', 'bill-cn', 1000000, 'CN',
        '[{"kind":"overage","bytes":1048576,"amountMicros":1000000,"ref":null}]', now())`.execute(db());
    const rec = (await t.api('GET', `/api/v1/bills/${before.id}/reconciliation`)).json<{ balanced: boolean; differences: unknown[] }>();
    expect(rec.balanced).toBe(false);
    expect(rec.differences).toEqual([
      { kind: 'overage', planId: 'bill-cn', zoneId: 'CN', trafficClass: null, productId: null, orderId: null, billed: { records: 1, bytes: 3 * MB, amountExact: '2.00' }, recorded: { records: 2, bytes: 4 * MB, amountExact: '3.00' } },
    ]);
    expect((await t.api('POST', '/api/v1/bills/runs', { period: '2026-01', accountId: enterprise.accountId, rerun: true })).json()).toMatchObject({ created: 0, replaced: 1 });
    const after = await billOf(enterprise.accountId, '2026-01');
    expect(after).toMatchObject({ revision: 2, total: '18.97' });
    expect((await t.api('GET', `/api/v1/bills/${before.id}`)).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/bills/${after.id}/reconciliation`)).json()).toMatchObject({ balanced: true });
  });

  it('bills a full monthly fee after the first month; prepaid plans are not billed monthly', async () => {
    t.clock.set(new Date('2026-03-02T00:00:00Z'));
    await t.api('POST', '/api/v1/bills/runs', { period: '2026-02' });
    const bill = await billOf(enterprise.accountId, '2026-02');
    expect(bill.lines.map((l) => [l.kind, l.planId, l.quantity, l.amount])).toEqual([['monthly_fee', 'bill-cn', 2, '20.00']]);
  });

  it('shows a bill only to its account and the accounts above it', async () => {
    const other = await createTenant(t, 'reseller', 'Other reseller');
    const bill = await billOf(enterprise.accountId, '2026-01');
    expect((await t.api('GET', `/api/v1/bills/${bill.id}`, undefined, { key: other.key })).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/bills/${bill.id}/export?format=csv`, undefined, { key: other.key })).statusCode).toBe(404);
    expect((await t.api('GET', '/api/v1/bills', undefined, { key: other.key })).json()).toEqual({ items: [], nextCursor: null });
    expect((await t.api('POST', '/api/v1/bills/runs', { period: '2026-01', accountId: enterprise.accountId }, { key: other.key })).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/bills/preview?period=2026-01&accountId=${enterprise.accountId}`, undefined, { key: other.key })).statusCode).toBe(404);
    // The enterprise sees its own bills only, and may not run bills.
    const own = (await t.api('GET', '/api/v1/bills', undefined, { key: enterprise.key })).json<{ items: { accountId: string }[] }>();
    expect(own.items.map((b) => b.accountId)).toEqual([enterprise.accountId, enterprise.accountId]);
    expect((await t.api('POST', '/api/v1/bills/runs', { period: '2026-01', rerun: true }, { key: enterprise.key })).statusCode).toBe(403);
  });

  it('bills a reseller wholesale for the SIMs on its plans at the wholesale plan, and its customer retail', async () => {
    await insertPlanVersions(db(), t.operatorAccountId, [
      plan({ id: 'op-wh', monthlyFeeMicros: 6_000_000, overage: { pricePerMbMicros: 500_000, capMicros: null }, outOfCoverage: { kind: 'rate', pricePerMbMicros: 2_000_000, zoneRates: [] } }),
    ], t.clock.now());
    await engine().rating.reloadCatalog();
    const reseller = await createTenant(t, 'reseller', 'Reseller W');
    const shop = await createTenant(t, 'enterprise', 'Shop', { parentId: reseller.accountId, key: reseller.key });
    const retail = {
      id: 'r-retail',
      name: 'Retail 2 MB',
      monthlyFee: '10.00',
      includedBytes: 2 * MB,
      coverageZoneIds: ['CN'],
      overage: { pricePerMb: '1.00', cap: null },
      outOfCoverage: { kind: 'rate', pricePerMb: '5.00', zoneRates: [] },
      cutoffBytes: null,
      ratingIncrementBytes: 1,
    };
    const other = await createTenant(t, 'reseller', 'Sibling');
    await t.api('POST', '/api/v1/plans', { ...retail, id: 'sib-plan', wholesalePlanId: null }, { key: other.key });
    for (const wholesalePlanId of ['nope', 'sib-plan']) {
      const bad = await t.api('POST', '/api/v1/plans', { ...retail, wholesalePlanId }, { key: reseller.key });
      expect(bad.json()).toMatchObject({ code: 'invalid_wholesale_plan' });
    }
    expect((await t.api('POST', '/api/v1/plans', { ...retail, wholesalePlanId: 'op-wh' }, { key: reseller.key })).statusCode).toBe(201);

    await t.api('POST', `/api/v1/sims/imports?accountId=${shop.accountId}`, simCsv(10, 2));
    await t.drainJobs();
    await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } } });
    await t.drainJobs();
    for (const serial of [10, 11]) expect((await t.api('PUT', `/api/v1/sims/${iccidFor(serial)}/plan`, { planId: 'r-retail' }, { key: reseller.key })).statusCode).toBe(200);
    await sql`UPDATE sims SET activated_at = '2026-02-01T00:00:00Z' WHERE account_id = ${shop.accountId}`.execute(db());
    // March: SIM 10 uses 3 MB in China, SIM 11 1 MB in Germany.
    for (const [serial, bytes, mccMnc] of [[10, 3 * MB, '46000'], [11, MB, '26201']] as const) {
      await engine().accounting(gateway, packet(serial, `w${serial}`, { status: 'start', mccMnc }));
      await engine().accounting(gateway, packet(serial, `w${serial}`, { bytesIn: bytes, mccMnc }));
    }
    t.clock.set(new Date('2026-04-02T00:00:00Z'));
    const run = await t.api('POST', '/api/v1/bills/runs', { period: '2026-03', accountId: reseller.accountId }, { key: reseller.key });
    expect(run.json()).toMatchObject({ created: 2, totals: { CNY: '41.00' } });

    const lines = (b: BillDto) => b.lines.map((l) => [l.kind, l.planId, l.zoneId, l.quantity, l.amount]);
    const shopBill = await billOf(shop.accountId, '2026-03', shop.key);
    expect(lines(shopBill)).toEqual([
      ['monthly_fee', 'r-retail', null, 2, '20.00'],
      ['overage', 'r-retail', 'CN', 1, '1.00'], // 2 MB included, 1 MB at 1.00
      ['roaming', 'r-retail', 'EU', 1, '5.00'],
    ]);
    const list = (await t.api('GET', `/api/v1/bills?period=2026-03&accountId=${reseller.accountId}&kind=wholesale`, undefined, { key: reseller.key })).json<{ items: { id: string }[] }>();
    const wholesale = (await t.api('GET', `/api/v1/bills/${list.items[0]!.id}`, undefined, { key: reseller.key })).json<BillDto & { kind: string }>();
    expect(wholesale.kind).toBe('wholesale');
    expect(lines(wholesale)).toEqual([
      ['monthly_fee', 'op-wh', null, 2, '12.00'],
      ['overage', 'op-wh', 'CN', 1, '1.00'], // 1 MB included, 2 MB at 0.50
      ['roaming', 'op-wh', 'EU', 1, '2.00'],
    ]);
    expect((await t.api('GET', `/api/v1/bills/${wholesale.id}/reconciliation`, undefined, { key: reseller.key })).json()).toMatchObject({ balanced: true, billed: { records: 2, amountExact: '3.00' } });
    // The customer never sees what its reseller pays.
    expect((await t.api('GET', `/api/v1/bills/${wholesale.id}`, undefined, { key: shop.key })).statusCode).toBe(404);
    expect((await t.api('GET', '/api/v1/bills?kind=wholesale', undefined, { key: shop.key })).json()).toEqual({ items: [], nextCursor: null });
    t.clock.set(new Date('2026-03-02T00:00:00Z'));
  });

  it('bills the month before once a month from the configured day, through the scheduler', async () => {
    const april = async () => (await t.api('GET', '/api/v1/bills?period=2026-04')).json<{ items: { accountId: string; issuedBy: string }[] }>().items;
    t.clock.set(new Date('2026-05-01T15:00:00Z')); // 1 May 23:00 in Shanghai: before the run day
    await t.platform.scheduler.tick();
    expect(await april()).toEqual([]);
    t.clock.set(new Date('2026-05-01T16:00:00Z')); // 2 May 00:00
    await t.platform.scheduler.tick();
    const bills = await april();
    expect(bills.length).toBeGreaterThan(0);
    expect(bills.every((b) => b.issuedBy === 'system:billing')).toBe(true);
    expect(await t.platform.services.bills.runScheduledBills(2)).toBe(0);
    expect(await t.platform.services.bills.runScheduledBills(0)).toBe(0);
    t.clock.set(new Date('2026-03-02T00:00:00Z'));
  });

  it('bills traffic that a split-billing rule gives another account to that account, with its class', async () => {
    const driver = await createTenant(t, 'enterprise', 'Driver');
    const rule = { accountId: enterprise.accountId, apn: 'media.*', trafficClass: 'infotainment', payerAccountId: driver.accountId };
    expect((await t.api('POST', '/api/v1/traffic-rules', { ...rule, trafficClass: 'Info Tainment' })).json()).toMatchObject({ code: 'invalid_traffic_rule' });
    expect((await t.api('POST', '/api/v1/traffic-rules', rule, { key: enterprise.key })).statusCode).toBe(403);
    const other = await createTenant(t, 'reseller', 'Elsewhere');
    expect((await t.api('POST', '/api/v1/traffic-rules', { ...rule, accountId: other.accountId }, { key: other.key })).statusCode).toBe(404); // the payer is not its own
    const created = await t.api('POST', '/api/v1/traffic-rules', rule);
    expect(created.statusCode).toBe(201);
    expect((await t.api('GET', '/api/v1/traffic-rules', undefined, { key: other.key })).json()).toEqual({ items: [], nextCursor: null });
    await engine().rating.reloadCatalog(); // as the change's own reload does, awaited here

    // March: SIM 2 streams 2 MB on the media APN (1 MB included, 1 MB overage), SIM 1 uses 512 KB of telematics.
    await engine().accounting(gateway, packet(2, 'm2', { status: 'start', apn: 'media.car' }));
    await engine().accounting(gateway, packet(2, 'm2', { bytesIn: 2 * MB, apn: 'media.car' }));
    await engine().accounting(gateway, packet(1, 'm1', { status: 'start', apn: 'iot.apn' }));
    await engine().accounting(gateway, packet(1, 'm1', { bytesIn: 512 * 1024, apn: 'iot.apn' }));
    const { rows } = await sql<{ iccid: string; traffic_class: string | null; payer_account_id: string | null }>`
      SELECT iccid, traffic_class, payer_account_id FROM usage_records WHERE session_id IS NOT NULL AND end_at >= '2026-03-01' ORDER BY id`.execute(db());
    expect(rows.filter((r) => r.iccid === iccidFor(2) || r.iccid === iccidFor(1)).slice(-2)).toEqual([
      { iccid: iccidFor(2), traffic_class: 'infotainment', payer_account_id: driver.accountId },
      { iccid: iccidFor(1), traffic_class: null, payer_account_id: null },
    ]);

    t.clock.set(new Date('2026-04-02T00:00:00Z'));
    await t.api('POST', '/api/v1/bills/runs', { period: '2026-03', accountId: enterprise.accountId });
    await t.api('POST', '/api/v1/bills/runs', { period: '2026-03', accountId: driver.accountId });
    const fleet = await billOf(enterprise.accountId, '2026-03');
    expect(fleet.lines.map((l) => [l.kind, l.zoneId, l.quantity, l.amount])).toEqual([
      ['monthly_fee', null, 2, '20.00'],
      ['usage_included', 'CN', 1, '0.00'],
    ]);
    const paid = await billOf(driver.accountId, '2026-03', driver.key);
    expect(paid.lines.map((l) => [l.kind, l.planId, l.zoneId, (l as { trafficClass?: string }).trafficClass, l.quantity, l.amount])).toEqual([['overage', 'bill-cn', 'CN', 'infotainment', 1, '1.00']]);
    expect((await t.api('GET', `/api/v1/bills/${paid.id}/reconciliation`, undefined, { key: driver.key })).json()).toMatchObject({ balanced: true });
    const csv = await t.api('GET', `/api/v1/bills/${paid.id}/export?format=csv`, undefined, { key: driver.key });
    expect(csv.body).toContain('Overage data · infotainment');
    expect((await t.api('DELETE', `/api/v1/traffic-rules/${created.json<{ id: string }>().id}`)).statusCode).toBe(204);
    t.clock.set(new Date('2026-03-02T00:00:00Z'));
  });

  it('exports a bill as CSV, XLSX and PDF in Chinese and English', async () => {
    const bill = await billOf(enterprise.accountId, '2026-01');
    const csv = await t.api('GET', `/api/v1/bills/${bill.id}/export?format=csv&lang=zh`, undefined, { key: enterprise.key });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain(`${bill.id}-2026-01.csv`);
    const csvLines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(csvLines).toHaveLength(bill.lines.length + 2);
    expect(csvLines.at(-1)).toBe('合计,,,,,,,18.967742,18.97'); // exact sum, then the sum of the rounded lines

    const xlsx = await t.api('GET', `/api/v1/bills/${bill.id}/export?format=xlsx&lang=en`);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    const cells: unknown[][] = [];
    sheet.eachRow((row) => cells.push([1, 2, 8, 9].map((c) => row.getCell(c).value)));
    expect(cells[0]!.slice(0, 2)).toEqual(['Account', `Fleet Co 车队 (${enterprise.accountId})`]);
    expect(cells.find((c) => c[0] === 'Total')).toEqual(['Total', null, 18.967742, 18.97]);
    expect(cells.filter((c) => c[1] === 'Overage data')).toHaveLength(1);

    const pdf = await t.api('GET', `/api/v1/bills/${bill.id}/export?format=pdf&lang=zh`);
    if (!findPdfFont(undefined)) {
      // A machine without a Chinese font answers so (CI installs fonts-wqy-microhei, so there this fails).
      expect(process.env.CI).not.toBe('true');
      expect(pdf.statusCode).toBe(503);
      expect(pdf.json()).toMatchObject({ code: 'pdf_font_missing', detail: expect.stringContaining('fonts-wqy-microhei') });
      return;
    }
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf.rawPayload);
    if (text !== null) {
      expect(text).toContain('账单');
      expect(text).toContain('Fleet Co 车队');
      expect(text).toContain('18.97');
      expect(text).toContain('套外流量');
    }
    expect((await t.api('GET', `/api/v1/bills/${bill.id}/export?format=doc`)).statusCode).toBe(400);
  });
});
