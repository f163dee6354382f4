import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { freePort } from './support/smsc.ts';
import { TestSmtpServer } from './support/smtp.ts';

const USER = 'meridian';
const PASSWORD = 'smtp-secret-1';

describe.each(testDialects())('e-mail notifications over SMTP on %s', (dialect) => {
  let t: TestPlatform;
  let smtp: TestSmtpServer;
  let port: number;

  const notifications = () => t.platform.services.notifications;
  const send = async () => {
    t.platform.notificationSender.wake();
    await t.platform.notificationSender.settle();
  };
  const stored = async (id: string) => (await t.api('GET', `/api/v1/notifications/${id}`)).json();

  beforeAll(async () => {
    port = await freePort();
    smtp = new TestSmtpServer({ user: USER, password: PASSWORD });
    t = await startTestPlatform(dialect, { SMTP_URL: `smtp://${USER}:${PASSWORD}@127.0.0.1:${port}`, SMTP_FROM: 'Meridian <noc@meridian.test>', SMTP_TIMEOUT_MS: '2000' });
    t.platform.notificationSender.start();
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  it('SMTP down: the message stays queued with the error, is retried after the backoff and then sent', async () => {
    const m = await notifications().email({ accountId: t.operatorAccountId, to: ['ops@example.com'], template: 'generic', lang: 'en', vars: { title: 'Hello', message: 'World' } });
    expect(m.status).toBe('queued');
    await send();
    const first = await stored(m.id);
    expect(first).toMatchObject({ status: 'queued', attempts: 1 });
    expect(first.error).toMatch(/SMTP server unreachable or busy .*ECONNECTION|ECONNREFUSED/);
    expect(new Date(first.nextAttemptAt).getTime()).toBe(t.clock.now().getTime() + 30_000);

    await smtp.start(port);
    await send();
    expect((await stored(m.id)).status).toBe('queued');
    t.clock.advance(30_000);
    await send();
    const sent = await stored(m.id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, error: null });
    expect(sent.providerMessageId).toMatch(/@/);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.subject).toBe('Hello');
  });

  it('delivers Chinese and English templates with the right subject, text and escaped HTML', async () => {
    const before = smtp.received.length;
    const vars = { iccid: '89860012345678901234', reason: '超出流量 <quota> & more' };
    const zh = await notifications().email({ accountId: t.operatorAccountId, to: ['张三@example.com', 'ops@example.com'], template: 'sim_suspended', lang: 'zh', vars });
    const en = await notifications().email({ accountId: t.operatorAccountId, to: ['ops@example.com'], template: 'sim_suspended', lang: 'en', vars });
    await send();
    expect((await stored(zh.id)).status).toBe('sent');
    expect((await stored(en.id)).status).toBe('sent');
    const mails = smtp.received.slice(before);
    const zhMail = mails.find((m) => m.subject?.startsWith('SIM 卡'))!;
    expect(zhMail.subject).toBe('SIM 卡已停机：89860012345678901234');
    expect(zhMail.text).toContain('原因：超出流量 <quota> & more');
    expect(zhMail.html).toContain('原因：超出流量 &lt;quota&gt; &amp; more');
    expect(zhMail.from?.text).toContain('noc@meridian.test');
    expect((Array.isArray(zhMail.to) ? zhMail.to : [zhMail.to!]).flatMap((a) => a.value.map((v) => v.address))).toEqual(['张三@example.com', 'ops@example.com']);
    const enMail = mails.find((m) => m.subject === 'SIM suspended: 89860012345678901234')!;
    expect(enMail.text).toContain('Reason: 超出流量 <quota> & more');
  });

  it('auth failure: the message fails at once with a clear error', async () => {
    // The same server, a wrong password: a second platform configured with it.
    const wrong = await startTestPlatform(dialect, { SMTP_URL: `smtp://${USER}:wrong@127.0.0.1:${port}`, SMTP_TIMEOUT_MS: '2000' });
    try {
      const m = await wrong.platform.services.notifications.email({ accountId: wrong.operatorAccountId, to: ['ops@example.com'], template: 'generic', lang: 'zh', vars: { title: '标题', message: '内容' } });
      wrong.platform.notificationSender.start();
      await wrong.platform.notificationSender.settle();
      const res = (await wrong.api('GET', `/api/v1/notifications/${m.id}`)).json();
      expect(res).toMatchObject({ status: 'failed', attempts: 1 });
      expect(res.error).toMatch(/^SMTP authentication failed: 535/);
    } finally {
      await wrong.close();
    }
  });

  it('lists e-mails within the tenant only; bad input is a clear 400', async () => {
    const tenant = await createTenant(t, 'enterprise', 'Mail Co');
    const own = await notifications().email({ accountId: tenant.accountId, to: ['a@example.com'], template: 'generic', lang: 'en', vars: { title: 'Yours', message: 'x' } });
    const list = await t.api('GET', '/api/v1/notifications', undefined, { key: tenant.key });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((m: { id: string }) => m.id)).toEqual([own.id]);
    const all = await t.api('GET', '/api/v1/notifications?limit=1000');
    expect(all.json().items.length).toBeGreaterThan(1);
    const operatorMessage = all.json().items.find((m: { accountId: string }) => m.accountId === t.operatorAccountId);
    expect((await t.api('GET', `/api/v1/notifications/${operatorMessage.id}`, undefined, { key: tenant.key })).statusCode).toBe(404);
    expect((await t.api('GET', '/api/v1/notifications?status=sent')).json().items.every((m: { status: string }) => m.status === 'sent')).toBe(true);

    await expect(notifications().email({ accountId: tenant.accountId, to: ['not-an-address'], template: 'generic', lang: 'en', vars: { title: 't', message: 'm' } })).rejects.toThrow(/not e-mail addresses: not-an-address/);
    await expect(notifications().email({ accountId: tenant.accountId, to: ['a@example.com'], template: 'generic', lang: 'en', vars: { title: 't' } })).rejects.toThrow(/needs message/);
  });

  it('without an SMSC configured, an SMS is stored as failed, never sent', async () => {
    const m = await notifications().sms({ accountId: t.operatorAccountId, to: '+8613800138000', text: 'hello' });
    expect(m).toMatchObject({ status: 'failed', error: 'SMS is not configured (set SMPP_HOST)', msisdn: '8613800138000' });
  });
});
