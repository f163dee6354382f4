import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, msisdnFor, simCsv } from './support/iccid.ts';
import { createTenant, installChinaCatalog, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { eventually, TestSmsc } from './support/smsc.ts';

const CREDENTIALS = { systemId: 'meridian', password: 'smpp-pw' };

const smppEnv = (port: number) => ({
  SMPP_HOST: '127.0.0.1',
  SMPP_PORT: String(port),
  SMPP_SYSTEM_ID: CREDENTIALS.systemId,
  SMPP_PASSWORD: CREDENTIALS.password,
  SMPP_SOURCE_ADDR: '10690000',
  SMPP_RECONNECT_MIN_MS: '50',
  SMPP_RECONNECT_MAX_MS: '200',
  SMPP_RESPONSE_TIMEOUT_MS: '2000',
  NOTIFY_POLL_INTERVAL_MS: '50',
});

interface Tenant {
  accountId: string;
  key: string;
}

interface SmsRecordRow {
  direction: string;
  parts: number;
  test_parts: number;
  included_parts: number;
  charged_parts: number;
  charge_micros: number;
  plan_id: string | null;
}

// Tenant A: SIMs 1-4 (1 SMS on, 2 in test, 3 whitelist without the sender, 4 SMS off); tenant B: SIM 5.
const SIM = (n: number) => iccidFor(n);
const PLAN = 'iot-sms';
/** 200 GSM 7-bit characters: two segments. */
const LONG = 'x'.repeat(200);

describe.each(testDialects())('SMS as usage on %s', (dialect) => {
  let t: TestPlatform;
  let smsc: TestSmsc;
  let a: Tenant;
  let b: Tenant;
  const db = () => t.platform.services.db;
  const as = (who: Tenant | undefined, method: string, url: string, body?: unknown) => t.api(method, url, body, who ? { key: who.key } : {});
  const records = async (iccid: string) =>
    (
      await sql<SmsRecordRow>`
        SELECT direction, parts, test_parts, included_parts, charged_parts, charge_micros, plan_id FROM sms_records WHERE iccid = ${iccid} ORDER BY id`.execute(db())
    ).rows.map((r) => ({ ...r, charge_micros: Number(r.charge_micros) }));
  const sendTo = async (serial: number, text: string) => {
    const res = await as(a, 'POST', '/api/v1/sms', { iccid: SIM(serial), text });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    await eventually(async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM sms_records WHERE sms_id = ${id}`.execute(db())).rows[0]!.n) === 1 || undefined);
    return id;
  };
  const stateOf = async (serial: number) => (await t.api('GET', `/api/v1/sims/${SIM(serial)}`)).json<{ state: string }>().state;

  beforeAll(async () => {
    smsc = new TestSmsc(CREDENTIALS);
    t = await startTestPlatform(dialect, smppEnv(await smsc.start()));
    a = await createTenant(t, 'enterprise', 'Meters A');
    b = await createTenant(t, 'enterprise', 'Meters B');
    for (const [csv, accountId] of [
      [simCsv(1, 4), a.accountId],
      [simCsv(5, 1), b.accountId],
    ] as const) {
      expect((await t.api('POST', `/api/v1/sims/imports?accountId=${accountId}`, csv)).statusCode).toBe(202);
      await t.drainJobs();
    }
    await installChinaCatalog(t, [
    createRatePlan({
      id: PLAN,
      name: 'IoT with SMS',
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      monthlyFeeMicros: 5_000_000,
      includedBytes: 10 * MB,
      includedSms: 2,
      smsPriceMicros: 150_000,
      coverageZoneIds: ['CN'],
      overage: null,
      cutoffBytes: null,
    }),
    ]);
    const iccids = [1, 2, 3, 4, 5].map(SIM);
    await sql`UPDATE sims SET plan_id = ${PLAN} WHERE iccid = any(${iccids}::text[])`.execute(db());
    for (const serial of [1, 3, 4, 5]) expect((await t.api('POST', `/api/v1/sims/${SIM(serial)}/state`, { state: 'active' })).statusCode).toBe(200);
    const bad = await t.api('POST', `/api/v1/sims/${SIM(2)}/state`, { state: 'test', testAllowanceSms: 0 });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.body).toContain('testAllowanceSms');
    const test = await t.api('POST', `/api/v1/sims/${SIM(2)}/state`, { state: 'test', testAllowanceSms: 2 });
    expect(test.statusCode, test.body).toBe(200);
    t.platform.services.usage.rating.simsChanged();
    for (const iccid of iccids) await t.platform.services.usage.sims.refresh(iccid);

    const on = await t.api('POST', '/api/v1/comm-plans', { name: 'SMS on', services: { sms: true } });
    const whitelist = await t.api('POST', '/api/v1/comm-plans', { name: 'SMS to the head end only', services: { sms: true }, smsWhitelist: ['10690001'] });
    expect([on.statusCode, whitelist.statusCode]).toEqual([201, 201]);
    for (const [serial, plan] of [
      [1, on],
      [2, on],
      [5, on],
      [3, whitelist],
    ] as const) {
      expect((await t.api('PUT', `/api/v1/sims/${SIM(serial)}/comm-plan`, { commPlanId: plan.json().id })).statusCode).toBe(200);
    }
    t.platform.notificationSender.start();
    t.platform.smpp!.start();
    await eventually(() => t.platform.smpp!.isBound());
  });
  afterAll(async () => {
    await t?.close();
    await smsc?.stop();
  });

  it('counts and rates MT and MO messages per segment: the included SMS of the cycle first, then the plan price', async () => {
    await sendTo(1, 'PING');
    expect(await smsc.sendMo(msisdnFor(1), [{ text: 'PONG', reference: 1 }])).toEqual([0]);
    await sendTo(1, LONG);
    expect(await records(SIM(1))).toEqual([
      { direction: 'mt', parts: 1, test_parts: 0, included_parts: 1, charged_parts: 0, charge_micros: 0, plan_id: PLAN },
      { direction: 'mo', parts: 1, test_parts: 0, included_parts: 1, charged_parts: 0, charge_micros: 0, plan_id: PLAN },
      { direction: 'mt', parts: 2, test_parts: 0, included_parts: 0, charged_parts: 2, charge_micros: 300_000, plan_id: PLAN },
    ]);
    const usage = (await as(a, 'GET', `/api/v1/sims/${SIM(1)}/usage`)).json<{ thisCycle: { month: string; sms: unknown } }>();
    expect(usage.thisCycle).toMatchObject({ month: '2026-01', sms: { messages: 4, mo: 1, mt: 3, test: 0, included: 2, charged: 2, amount: '0.30' } });
  });

  it('an MO retransmission with the same device reference is stored and counted once', async () => {
    expect(await smsc.sendMo(msisdnFor(1), [{ text: 'PONG', reference: 1 }])).toEqual([0]);
    const mo = await sql<{ n: string }>`SELECT count(*) AS n FROM sms_messages WHERE direction = 'mo' AND msisdn = ${msisdnFor(1)}`.execute(db());
    expect(Number(mo.rows[0]!.n)).toBe(1);
    expect((await records(SIM(1))).length).toBe(3);
    // Another message with another reference counts, charged now that the included SMS are used.
    expect(await smsc.sendMo(msisdnFor(1), [{ text: 'PONG', reference: 2 }])).toEqual([0]);
    expect((await records(SIM(1))).at(-1)).toMatchObject({ direction: 'mo', charged_parts: 1, charge_micros: 150_000 });
  });

  it('refuses SMS to a SIM whose communication plan has SMS off or whitelists other numbers; an MO with SMS off is stored, rated and alerted', async () => {
    const off = await as(a, 'POST', '/api/v1/sms', { iccid: SIM(4), text: 'PING' });
    expect(off.statusCode).toBe(409);
    expect(off.headers['content-type']).toContain('application/problem+json');
    expect(off.json()).toMatchObject({ code: 'sms_service_off', detail: expect.stringContaining('services.sms') });
    const byNumber = await as(a, 'POST', '/api/v1/sms', { msisdn: msisdnFor(4), text: 'PING' });
    expect(byNumber.json()).toMatchObject({ code: 'sms_service_off' });
    const listed = await as(a, 'POST', '/api/v1/sms', { iccid: SIM(3), text: 'PING' });
    expect(listed.statusCode).toBe(409);
    expect(listed.json()).toMatchObject({ code: 'sms_not_whitelisted', detail: expect.stringContaining('10690001') });
    expect(smsc.submitted.some((s) => s.destination === msisdnFor(4) || s.destination === msisdnFor(3))).toBe(false);

    expect(await smsc.sendMo(msisdnFor(4), [{ text: 'ALARM', reference: 9 }])).toEqual([0]);
    expect(await records(SIM(4))).toEqual([{ direction: 'mo', parts: 1, test_parts: 0, included_parts: 1, charged_parts: 0, charge_micros: 0, plan_id: PLAN }]);
    const alerts = (await as(a, 'GET', '/api/v1/alerts?type=sms_service_off')).json<{ items: { subject: { id: string }; severity: string }[] }>().items;
    expect(alerts).toEqual([expect.objectContaining({ subject: { kind: 'sim', id: SIM(4) }, severity: 'warning' })]);
    expect((await as(b, 'GET', '/api/v1/alerts?type=sms_service_off')).json().items).toEqual([]);
  });

  it('a rule that sends a device SMS to a SIM with SMS off records the refusal as its action result', async () => {
    const created = await t.api('POST', '/api/v1/rules', {
      name: 'tell the device it is locked',
      scope: { kind: 'sim', iccid: SIM(4) },
      trigger: { type: 'state_change', to: ['suspended'] },
      actions: [{ type: 'device_sms', text: 'LOCKED' }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const ruleId = created.json<{ id: string }>().id;
    await t.platform.ruleRuntime.reload();
    expect((await t.api('POST', `/api/v1/sims/${SIM(4)}/state`, { state: 'suspended', reason: 'test' })).statusCode).toBe(200);
    const firing = await eventually(async () => {
      await t.platform.ruleRuntime.settle();
      const items = (await t.api('GET', `/api/v1/rule-firings?ruleId=${ruleId}`)).json<{ items: { status: string; actions: { type: string; status: string; detail: string | null }[] }[] }>().items;
      return items.find((f) => f.actions.length > 0);
    });
    expect(firing.actions).toEqual([{ type: 'device_sms', status: 'failed', detail: expect.stringMatching(/^sms_service_off: SMS is off for SIM/) }]);
    expect(smsc.submitted.some((s) => s.destination === msisdnFor(4))).toBe(false);
  });

  it('a SIM in its test period becomes active once its SMS test allowance is used; test SMS are free', async () => {
    expect(await stateOf(2)).toBe('test');
    expect(await smsc.sendMo(msisdnFor(2), [{ text: 'HELLO', reference: 1 }])).toEqual([0]);
    expect(await stateOf(2)).toBe('test');
    expect(await smsc.sendMo(msisdnFor(2), [{ text: 'HELLO', reference: 2 }])).toEqual([0]);
    await eventually(async () => (await stateOf(2)) === 'active' || undefined);
    const changes = (await t.api('GET', `/api/v1/sims/${SIM(2)}/changes?field=state`)).json<{ items: { actor: string; reason: string; newValue: string }[] }>();
    expect(changes.items[0]).toMatchObject({ actor: 'system:usage', newValue: 'active', reason: 'test allowance of 2 SMS used up' });
    const events = (await as(a, 'GET', `/api/v1/events?type=sim.state_changed&subjectKind=sim&subjectId=${SIM(2)}`)).json<{ items: { data: { to: string } }[] }>();
    expect(events.items.map((e) => e.data.to)).toContain('active');
    await t.platform.services.usage.sims.refresh(SIM(2));
    await sendTo(2, 'WELCOME');
    expect(await records(SIM(2))).toEqual([
      { direction: 'mo', parts: 1, test_parts: 1, included_parts: 0, charged_parts: 0, charge_micros: 0, plan_id: PLAN },
      { direction: 'mo', parts: 1, test_parts: 1, included_parts: 0, charged_parts: 0, charge_micros: 0, plan_id: PLAN },
      { direction: 'mt', parts: 1, test_parts: 0, included_parts: 1, charged_parts: 0, charge_micros: 0, plan_id: PLAN },
    ]);
  });

  it('bills SMS per plan and priced top-ups (charged, or shown as paid by their order), and the bill reconciles', async () => {
    const product = await t.api('POST', '/api/v1/top-up-products', { id: 'cn-100mb', name: '100 MB', bytes: 100 * MB, validMonths: 1, price: '12.5' });
    expect(product.statusCode, product.body).toBe(201);
    const onAccount = await t.api('POST', `/api/v1/sims/${SIM(1)}/top-ups`, { productId: 'cn-100mb' });
    expect(onAccount.statusCode, onAccount.body).toBe(201);
    expect(onAccount.json()).toMatchObject({ bytes: 100 * MB, productId: 'cn-100mb', price: '12.50', currency: 'CNY', paidByOrder: null });
    expect((await t.api('POST', `/api/v1/sims/${SIM(1)}/top-ups`, { productId: 'cn-100mb', bytes: MB })).json()).toMatchObject({ code: 'invalid_top_up' });
    const order = await as(a, 'POST', '/api/v1/orders', { items: [{ kind: 'top_up', iccid: SIM(3), productId: 'cn-100mb', quantity: 2 }] });
    expect(order.statusCode, order.body).toBe(201);
    const orderId = order.json<{ id: string }>().id;
    expect((await t.api('POST', `/api/v1/orders/${orderId}/payments`, { reference: 'TX-1' })).json()).toMatchObject({ status: 'fulfilled' });
    // B's own top-up never shows on A's bill.
    expect((await t.api('POST', `/api/v1/sims/${SIM(5)}/top-ups`, { productId: 'cn-100mb' })).statusCode).toBe(201);

    t.clock.set(new Date('2026-01-31T17:00:00Z')); // 2026-02-01 01:00 in Shanghai: January is closed
    const run = await t.api('POST', '/api/v1/bills/runs', { period: '2026-01' });
    expect(run.statusCode, run.body).toBe(200);
    const list = (await as(a, 'GET', '/api/v1/bills?period=2026-01')).json<{ items: { id: string; accountId: string }[] }>().items;
    expect(list.map((x) => x.accountId)).toEqual([a.accountId]);
    const bill = (await as(a, 'GET', `/api/v1/bills/${list[0]!.id}`)).json<{ lines: Record<string, unknown>[]; usageRecords: number }>();
    const smsLines = bill.lines.filter((l) => l.kind === 'sms');
    // SIM 1: 1 + 1 + 2 + 1; SIM 2: 2 in test + 1; SIM 4: 1. Charged: SIM 1's two-part MT and its second MO, beyond its two included.
    expect(smsLines).toEqual([expect.objectContaining({ planId: PLAN, quantity: 9, unitPrice: '0.15', amountExact: '0.45', amount: '0.45', productId: null, paidByOrder: null })]);
    const topUpLines = bill.lines.filter((l) => l.kind === 'top_up');
    expect(topUpLines).toEqual([
      expect.objectContaining({ productId: 'cn-100mb', paidByOrder: null, quantity: 1, bytes: 100 * MB, unitPrice: '12.50', amount: '12.50' }),
      expect.objectContaining({ productId: 'cn-100mb', paidByOrder: orderId, quantity: 1, bytes: 200 * MB, unitPrice: '25.00', amount: '0.00' }),
    ]);
    expect(bill.usageRecords).toBe(0);
    const rec = (await as(a, 'GET', `/api/v1/bills/${list[0]!.id}/reconciliation`)).json<{ balanced: boolean; differences: unknown[]; totalMatches: boolean }>();
    expect(rec).toMatchObject({ balanced: true, differences: [], totalMatches: true });

    // A record the bill does not cover shows as a difference.
    await sql`UPDATE sms_records SET charge_micros = charge_micros + 1 WHERE iccid = ${SIM(1)} AND charged_parts > 0 AND direction = 'mt'`.execute(db());
    const off = (await as(a, 'GET', `/api/v1/bills/${list[0]!.id}/reconciliation`)).json<{ balanced: boolean; differences: { kind: string; billed: { amountExact: string }; recorded: { amountExact: string } }[] }>();
    expect(off.balanced).toBe(false);
    expect(off.differences).toEqual([expect.objectContaining({ kind: 'sms', planId: PLAN })]);
    await sql`UPDATE sms_records SET charge_micros = charge_micros - 1 WHERE iccid = ${SIM(1)} AND charged_parts > 0 AND direction = 'mt'`.execute(db());

    const csv = (await as(a, 'GET', `/api/v1/bills/${list[0]!.id}/export?format=csv&lang=en`)).body;
    expect(csv).toContain('SMS');
    expect(csv).toContain(`Top-up data · cn-100mb · paid by order ${orderId}`);
    const zh = (await as(a, 'GET', `/api/v1/bills/${list[0]!.id}/export?format=csv&lang=zh`)).body;
    expect(zh).toContain('短信');
    expect(zh).toContain('加油包 · cn-100mb');
    t.clock.set(new Date('2026-01-15T02:00:00Z'));
  });

  it('tenancy: SMS figures and records of one account are not visible to another', async () => {
    expect((await as(b, 'GET', `/api/v1/sims/${SIM(1)}/usage`)).statusCode).toBe(404);
    const bUsage = (await as(b, 'GET', `/api/v1/accounts/${b.accountId}/usage`)).json<{ thisCycle: { sms: { messages: number } } }>();
    expect(bUsage.thisCycle.sms.messages).toBe(0);
    expect((await as(b, 'GET', `/api/v1/accounts/${a.accountId}/usage`)).statusCode).toBe(404);
    const aUsage = (await as(a, 'GET', `/api/v1/accounts/${a.accountId}/usage`)).json<{ thisCycle: { sms: { messages: number } } }>();
    expect(aUsage.thisCycle.sms.messages).toBe(9);
  });
});
