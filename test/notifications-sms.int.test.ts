import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, msisdnFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { eventually, freePort, TestSmsc } from './support/smsc.ts';

const CREDENTIALS = { systemId: 'meridian', password: 'smpp-pw' };

const smppEnv = (port: number, extra: Record<string, string> = {}) => ({
  SMPP_HOST: '127.0.0.1',
  SMPP_PORT: String(port),
  SMPP_SYSTEM_ID: CREDENTIALS.systemId,
  SMPP_PASSWORD: CREDENTIALS.password,
  SMPP_SYSTEM_TYPE: 'cmp',
  SMPP_SOURCE_ADDR: '10690000',
  SMPP_RECONNECT_MIN_MS: '50',
  SMPP_RECONNECT_MAX_MS: '200',
  SMPP_RESPONSE_TIMEOUT_MS: '2000',
  NOTIFY_POLL_INTERVAL_MS: '50',
  ...extra,
});

interface Tenant {
  accountId: string;
  key: string;
}

// SIM serials: tenant A 1-2, tenant B 3.
const A_SIM = iccidFor(1);
const B_SIM = iccidFor(3);

describe.each(testDialects())('SMS over SMPP on %s', (dialect) => {
  let t: TestPlatform;
  let smsc: TestSmsc;
  let a: Tenant;
  let b: Tenant;

  const sms = async (id: string, key?: string) => (await t.api('GET', `/api/v1/sms/${id}`, undefined, key ? { key } : {})).json();
  const statusOf = async (id: string, status: string) => {
    const m = await sms(id);
    return m.status === status ? m : undefined;
  };

  beforeAll(async () => {
    smsc = new TestSmsc(CREDENTIALS);
    const port = await smsc.start();
    t = await startTestPlatform(dialect, smppEnv(port, { SMPP_ENQUIRE_LINK_SECONDS: '1' }));
    a = await createTenant(t, 'enterprise', 'Containers A');
    b = await createTenant(t, 'enterprise', 'Containers B');
    for (const [csv, accountId] of [
      [simCsv(1, 2), a.accountId],
      [simCsv(3, 1), b.accountId],
    ] as const) {
      expect((await t.api('POST', `/api/v1/sims/imports?accountId=${accountId}`, csv)).statusCode).toBe(202);
      await t.drainJobs();
    }
    // SMS is off unless a communication plan turns it on: one plan of the operator's, with SMS on, for every SIM.
    const plan = await t.api('POST', '/api/v1/comm-plans', { name: 'SMS on', services: { sms: true } });
    expect(plan.statusCode, plan.body).toBe(201);
    for (const serial of [1, 2, 3]) {
      expect((await t.api('PUT', `/api/v1/sims/${iccidFor(serial)}/comm-plan`, { commPlanId: plan.json().id })).statusCode).toBe(200);
    }
    t.platform.notificationSender.start();
    t.platform.smpp!.start();
    await eventually(() => t.platform.smpp!.isBound());
  });
  afterAll(async () => {
    await t?.close();
    await smsc?.stop();
  });

  it('binds as transceiver with the configured credentials and keeps the link alive', async () => {
    expect(smsc.binds[0]).toEqual({ systemId: 'meridian', password: 'smpp-pw', systemType: 'cmp' });
    await eventually(() => smsc.enquireLinks >= 1, 3000);
  });

  it('sends a command to a device by ICCID; the receipt marks it delivered', async () => {
    const res = await t.api('POST', '/api/v1/sms', { iccid: A_SIM, text: 'UNLOCK container 7' }, { key: a.key });
    expect(res.statusCode, res.body).toBe(202);
    const queued = res.json();
    expect(queued).toMatchObject({ direction: 'mt', iccid: A_SIM, msisdn: msisdnFor(1), accountId: a.accountId, encoding: 'gsm7', segments: 1, status: 'queued' });
    expect(res.headers.location).toBe(`/api/v1/sms/${queued.id}`);

    const delivered = await eventually(() => statusOf(queued.id, 'delivered'));
    const submit = smsc.submitted.find((s) => s.destination === msisdnFor(1))!;
    expect(submit.text).toBe('UNLOCK container 7');
    expect(submit.pdu).toMatchObject({ source_addr: '10690000', source_addr_ton: 1, dest_addr_ton: 1, registered_delivery: 1, data_coding: 0 });
    expect(delivered).toMatchObject({ messageId: submit.messageId, attempts: 1, error: null, errorCode: null });
    expect(delivered.submittedAt).not.toBeNull();
    expect(delivered.doneAt).not.toBeNull();
    const events = (await t.api('GET', `/api/v1/events?type=sms.delivery_updated&subjectKind=sms&subjectId=${queued.id}`, undefined, { key: a.key })).json().items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ accountId: a.accountId, data: { id: queued.id, iccid: A_SIM, status: 'delivered', previousStatus: 'sent', messageId: submit.messageId } });
  });

  it('a receipt saying undeliverable is recorded with its error code', async () => {
    smsc.receipt = 'UNDELIV';
    try {
      const m = await t.platform.services.notifications.sms({ accountId: a.accountId, to: '8613800138000', text: 'hello' });
      const done = await eventually(() => statusOf(m.id, 'undeliverable'));
      expect(done.errorCode).toBe('012');
    } finally {
      smsc.receipt = 'DELIVRD';
    }
  });

  it('splits a long Chinese message into UCS2 segments that reassemble to the text; delivered once every segment is', async () => {
    const text = '请于今晚十点前打开三号集装箱的电子锁，并确认温度传感器读数正常。'.repeat(4);
    const res = await t.api('POST', '/api/v1/sms', { iccid: A_SIM, text }, { key: a.key });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ encoding: 'ucs2', segments: 2 });
    const done = await eventually(() => statusOf(res.json().id, 'delivered'));
    const parts = smsc.submitted.filter((s) => s.dataCoding === 8 && s.concat);
    expect(parts.map((p) => p.concat!.seq)).toEqual([1, 2]);
    expect(parts.every((p) => (p.pdu.esm_class as number) & 0x40)).toBe(true);
    expect(smsc.reassembled().find((r) => r.segments === 2)).toEqual({ destination: msisdnFor(1), text, segments: 2, dataCoding: 8 });
    expect(done.messageId).toBe(parts[0]!.messageId);
  });

  it('stores an MO message from a device with its ICCID and account', async () => {
    expect(await smsc.sendMo(msisdnFor(2), [{ text: 'TEMP 4.5C DOOR CLOSED' }])).toEqual([0]);
    const list = await t.api('GET', `/api/v1/sms?direction=mo&iccid=${iccidFor(2)}`, undefined, { key: a.key });
    expect(list.json().items).toHaveLength(1);
    const mo = list.json().items[0];
    expect(mo).toMatchObject({ direction: 'mo', iccid: iccidFor(2), msisdn: msisdnFor(2), accountId: a.accountId, text: 'TEMP 4.5C DOOR CLOSED', status: 'received', encoding: 'gsm7' });
    const events = (await t.api('GET', `/api/v1/events?type=sms.received&subjectId=${mo.id}`, undefined, { key: a.key })).json().items;
    expect(events.map((e: { data: unknown }) => e.data)).toEqual([
      { id: mo.id, iccid: iccidFor(2), msisdn: msisdnFor(2), text: 'TEMP 4.5C DOOR CLOSED', encoding: 'gsm7', segments: 1, receivedAt: mo.createdAt },
    ]);
    expect((await t.api('GET', `/api/v1/events?type=sms.*&subjectId=${mo.id}`, undefined, { key: b.key })).json().items).toEqual([]);
  });

  it('reassembles a concatenated Chinese MO message from its parts', async () => {
    const first = '设备告警：三号集装箱门已打开，';
    const second = '温度上升至八度。';
    const statuses = await smsc.sendMo(msisdnFor(2), [
      { text: second, ucs2: true, concat: { ref: 42, total: 2, seq: 2 } },
      { text: first, ucs2: true, concat: { ref: 42, total: 2, seq: 1 } },
    ]);
    expect(statuses).toEqual([0, 0]);
    const list = await t.api('GET', `/api/v1/sms?direction=mo&msisdn=${msisdnFor(2)}`, undefined, { key: a.key });
    expect(list.json().items[0]).toMatchObject({ text: first + second, segments: 2, encoding: 'ucs2', iccid: iccidFor(2) });
    const parts = await t.platform.services.db.selectFrom('sms_mo_parts').selectAll().execute();
    expect(parts).toHaveLength(0);
  });

  it('reassembles parts that arrive at the same time', async () => {
    const texts = ['PART-ONE ', 'PART-TWO ', 'PART-THREE'];
    const statuses = await smsc.sendMo(msisdnFor(1), texts.map((text, i) => ({ text, concat: { ref: 77, total: 3, seq: i + 1 } })), true);
    expect(statuses).toEqual([0, 0, 0]);
    const list = (await t.api('GET', `/api/v1/sms?direction=mo&msisdn=${msisdnFor(1)}`, undefined, { key: a.key })).json().items;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ text: texts.join(''), segments: 3, iccid: A_SIM });
  });

  it('an MO message from an unknown MSISDN is kept for the operator only', async () => {
    expect(await smsc.sendMo('8613900000000', [{ text: 'who am I' }])).toEqual([0]);
    const operator = await t.api('GET', '/api/v1/sms?direction=mo&msisdn=8613900000000');
    expect(operator.json().items[0]).toMatchObject({ accountId: null, iccid: null, text: 'who am I' });
    expect((await t.api('GET', '/api/v1/sms?msisdn=8613900000000', undefined, { key: a.key })).json().items).toEqual([]);
  });

  it('tenancy: one account can neither send to nor list or read the SMS of another account\'s SIMs', async () => {
    const byIccid = await t.api('POST', '/api/v1/sms', { iccid: B_SIM, text: 'x' }, { key: a.key });
    expect(byIccid.statusCode).toBe(404);
    expect(byIccid.json().code).toBe('sim_not_found');
    const byMsisdn = await t.api('POST', '/api/v1/sms', { msisdn: msisdnFor(3), text: 'x' }, { key: a.key });
    expect(byMsisdn.statusCode).toBe(404);

    const own = await t.api('POST', '/api/v1/sms', { iccid: B_SIM, text: 'B only' }, { key: b.key });
    expect(own.statusCode).toBe(202);
    const listA = (await t.api('GET', '/api/v1/sms?limit=1000', undefined, { key: a.key })).json().items;
    expect(listA.length).toBeGreaterThan(0);
    expect(listA.every((m: { accountId: string }) => m.accountId === a.accountId)).toBe(true);
    expect((await t.api('GET', `/api/v1/sms?iccid=${B_SIM}`, undefined, { key: a.key })).json().items).toEqual([]);
    expect((await t.api('GET', `/api/v1/sms/${own.json().id}`, undefined, { key: a.key })).statusCode).toBe(404);
    expect((await t.api('GET', `/api/v1/sms/${own.json().id}`, undefined, { key: b.key })).statusCode).toBe(200);
    // The operator above both sees both.
    expect((await t.api('GET', `/api/v1/sms/${own.json().id}`)).statusCode).toBe(200);
  });

  it('filters the list and refuses bad input with what is allowed', async () => {
    const delivered = (await t.api('GET', '/api/v1/sms?status=delivered&direction=mt', undefined, { key: a.key })).json().items;
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(delivered.every((m: { status: string }) => m.status === 'delivered')).toBe(true);
    const page1 = (await t.api('GET', '/api/v1/sms?limit=1', undefined, { key: a.key })).json();
    const page2 = (await t.api('GET', `/api/v1/sms?limit=1&cursor=${page1.nextCursor}`, undefined, { key: a.key })).json();
    expect(page2.items[0].id < page1.items[0].id).toBe(true);
    const later = (await t.api('GET', `/api/v1/sms?from=${new Date(t.clock.now().getTime() + 1000).toISOString()}`)).json();
    expect(later.items).toEqual([]);

    const both = await t.api('POST', '/api/v1/sms', { iccid: A_SIM, msisdn: '8613800138000', text: 'x' }, { key: a.key });
    expect(both.statusCode).toBe(400);
    expect(both.json().code).toBe('invalid_sms_target');
    const badNumber = await t.api('POST', '/api/v1/sms', { msisdn: '12ab', text: 'x' }, { key: a.key });
    expect(badNumber.json()).toMatchObject({ status: 400, code: 'invalid_msisdn' });
    const tooLong = await t.api('POST', '/api/v1/sms', { msisdn: '8613800138000', text: '长'.repeat(671) }, { key: a.key });
    expect(tooLong.json()).toMatchObject({ status: 400, code: 'sms_too_long' });
    expect(tooLong.json().detail).toContain('670 when the text needs UCS2');
    const longGsm = await t.api('POST', '/api/v1/sms', { msisdn: '8613800138000', text: 'g'.repeat(1000) }, { key: a.key });
    expect(longGsm.json()).toMatchObject({ encoding: 'gsm7', segments: 7 });
    const readOnly = await createTenant(t, 'enterprise', 'Viewer', { role: 'read_only' });
    const refused = await t.api('POST', '/api/v1/sms', { msisdn: '8613800138000', text: 'x' }, { key: readOnly.key });
    expect(refused.statusCode).toBe(403);
  });

  it('without SMTP configured, an e-mail is stored as failed with "email is not configured"', async () => {
    const m = await t.platform.services.notifications.email({ accountId: a.accountId, to: ['ops@example.com'], template: 'generic', lang: 'en', vars: { title: 't', message: 'm' } });
    expect(m).toMatchObject({ status: 'failed', error: 'email is not configured (set SMTP_URL or SMTP_HOST)' });
  });

  it('the link lost: messages wait queued, the client reconnects and sends them', async () => {
    const port = smsc.port;
    await smsc.stop();
    await eventually(() => !t.platform.smpp!.isBound());
    const m = await t.platform.services.notifications.sms({ accountId: a.accountId, to: msisdnFor(2), text: 'after the outage', iccid: iccidFor(2) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await sms(m.id)).toMatchObject({ status: 'queued', attempts: 0 });
    await smsc.start(port);
    await eventually(() => statusOf(m.id, 'delivered'));
  });

  it('the link dies under a submit: the message is not counted as an attempt and goes after the next bind', async () => {
    smsc.dropOnSubmit = 1;
    const before = smsc.submitted.length;
    const m = await t.platform.services.notifications.sms({ accountId: a.accountId, to: msisdnFor(2), text: 'dropped once' });
    const done = await eventually(() => statusOf(m.id, 'delivered'));
    expect(done.attempts).toBe(1);
    expect(smsc.submitted.slice(before).map((s) => s.text)).toEqual(['dropped once']);
    expect(smsc.binds.length).toBeGreaterThanOrEqual(3);
  });
});

describe.each(testDialects())('SMSC down at start on %s', (dialect) => {
  it('queues messages, binds once the SMSC is up and sends them', async () => {
    const port = await freePort();
    const t = await startTestPlatform(dialect, smppEnv(port));
    const smsc = new TestSmsc(CREDENTIALS);
    try {
      t.platform.notificationSender.start();
      t.platform.smpp!.start();
      const ids = [];
      for (const text of ['one', '二']) ids.push((await t.api('POST', '/api/v1/sms', { msisdn: '8613800138000', text })).json().id);
      await new Promise((r) => setTimeout(r, 400));
      expect(t.platform.smpp!.isBound()).toBe(false);
      for (const id of ids) expect((await t.api('GET', `/api/v1/sms/${id}`)).json()).toMatchObject({ status: 'queued', attempts: 0 });
      await smsc.start(port);
      for (const id of ids) await eventually(async () => (await t.api('GET', `/api/v1/sms/${id}`)).json().status === 'delivered');
      expect(smsc.submitted.map((s) => s.text)).toEqual(['one', '二']);
      expect(smsc.submitted[1]!.dataCoding).toBe(8);
    } finally {
      await t.close();
      await smsc.stop();
    }
  });
});
