import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { testDialects } from './support/databases.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { WebhookReceiver } from './support/receiver.ts';
import { freePort } from './support/smsc.ts';
import { TestSmtpServer } from './support/smtp.ts';

const USER = 'meridian';
const PASSWORD = 'smtp-secret-1';
const HOUR = 3_600_000;

interface Tenant {
  accountId: string;
  key: string;
}

const recipientsOf = (mail: TestSmtpServer['received'][number]): string[] =>
  (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

describe.each(testDialects())('a paused webhook endpoint and its owner on %s', (dialect) => {
  let t: TestPlatform;
  let smtp: TestSmtpServer;
  let receiver: WebhookReceiver;
  let reseller: Tenant;
  let enterprise: Tenant;
  let other: Tenant;

  const as = (who: Tenant, method: string, url: string, body?: unknown) => t.api(method, url, body, { key: who.key });
  const user = async (who: Tenant, email: string, role: string) => {
    const res = await as(who, 'POST', '/api/v1/users', { email, name: email.split('@')[0], role, password: 'correct horse battery staple' });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  };
  /** Publishes an event of the account (alert.raised) for the endpoint to fail on. */
  const emit = (accountId: string, message: string) =>
    t.platform.services.alerts.raise(t.platform.services.db, [{ accountId, type: 'test_case', severity: 'info', subject: { kind: 'account', id: accountId }, message }], t.clock.now());
  const settle = async () => {
    await t.platform.dispatcher.settle();
    t.platform.notificationSender.wake();
    await t.platform.notificationSender.settle();
  };
  /** Fails deliveries to the endpoint for over an hour, so the dispatcher pauses it. */
  const failForAnHour = async (accountId: string) => {
    for (let i = 0; i < 3; i++) await emit(accountId, `event ${i}`);
    await settle();
    t.clock.advance(HOUR);
    await settle();
  };
  const mailsTo = (url: string) => smtp.received.filter((m) => m.text?.includes(url));

  beforeAll(async () => {
    const port = await freePort();
    smtp = new TestSmtpServer({ user: USER, password: PASSWORD });
    await smtp.start(port);
    t = await startTestPlatform(dialect, {
      SMTP_URL: `smtp://${USER}:${PASSWORD}@127.0.0.1:${port}`,
      SMTP_TIMEOUT_MS: '2000',
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_RETRY_BASE_MS: '10000',
      WEBHOOK_PAUSE_AFTER_FAILURES: '3',
      WEBHOOK_PAUSE_AFTER_MINUTES: '60',
    });
    t.platform.notificationSender.start();
    receiver = await new WebhookReceiver().start();
    receiver.mode = { kind: 'status', status: 503 };
    reseller = await createTenant(t, 'reseller', 'Reseller');
    enterprise = await createTenant(t, 'enterprise', 'Enterprise', { parentId: reseller.accountId, key: reseller.key });
    other = await createTenant(t, 'enterprise', 'Other enterprise', { parentId: reseller.accountId, key: reseller.key });
    await user(enterprise, 'owner@enterprise.example', 'enterprise_admin');
    await user(enterprise, 'second.owner@enterprise.example', 'enterprise_admin');
    await user(enterprise, 'operator@enterprise.example', 'enterprise_operator');
    await user(enterprise, 'viewer@enterprise.example', 'read_only');
    const disabled = await user(enterprise, 'gone@enterprise.example', 'enterprise_admin');
    expect((await as(enterprise, 'PATCH', `/api/v1/users/${disabled}`, { disabled: true })).statusCode).toBe(200);
    await user(reseller, 'owner@reseller.example', 'reseller_admin');
    await user(other, 'owner@other.example', 'enterprise_admin');
  });
  afterAll(async () => {
    await receiver?.stop();
    await t?.close();
    await smtp?.stop();
  });

  it('the receiver keeps failing: the endpoint is paused and its account admins get exactly one e-mail naming the URL', async () => {
    const url = `${receiver.url}?owner=enterprise`;
    const created = await as(enterprise, 'POST', '/api/v1/webhooks', { url, eventTypes: ['alert.*'] });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;

    await failForAnHour(enterprise.accountId);
    expect((await as(enterprise, 'GET', `/api/v1/webhooks/${id}`)).json()).toMatchObject({ state: 'paused' });
    // More passes, later: the pause is told once.
    t.clock.advance(HOUR);
    await emit(enterprise.accountId, 'while paused');
    await settle();

    const mails = mailsTo(url);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.subject).toBe(`Webhook 已暂停：${url}`);
    expect(mail!.text).toContain(`Webhook 地址 ${url} 已暂停推送。`);
    expect(mail!.text).toMatch(/原因：自 \S+ 起连续 \d+ 次推送失败，最近一次错误：HTTP 503/);
    expect(recipientsOf(mail!).sort()).toEqual(['owner@enterprise.example', 'second.owner@enterprise.example']);
    // Stored as the account's message, not another tenant's.
    const stored = (await as(enterprise, 'GET', '/api/v1/notifications')).json<{ items: { template: string; status: string }[] }>().items;
    expect(stored.filter((m) => m.template === 'webhook_paused')).toEqual([expect.objectContaining({ status: 'sent' })]);
    expect(((await as(other, 'GET', '/api/v1/notifications')).json<{ items: unknown[] }>()).items).toEqual([]);

    // Resumed and failing again: a second pause, a second e-mail.
    expect((await as(enterprise, 'PATCH', `/api/v1/webhooks/${id}`, { state: 'enabled' })).statusCode).toBe(200);
    await failForAnHour(enterprise.accountId);
    expect((await as(enterprise, 'GET', `/api/v1/webhooks/${id}`)).json()).toMatchObject({ state: 'paused' });
    expect(mailsTo(url)).toHaveLength(2);
  });

  it('an account without admin users is paused without an e-mail; its parent is not written to', async () => {
    const lonely = await createTenant(t, 'enterprise', 'Lonely enterprise', { parentId: reseller.accountId, key: reseller.key });
    const url = `${receiver.url}?owner=lonely`;
    const id = (await as(lonely, 'POST', '/api/v1/webhooks', { url, eventTypes: ['alert.*'] })).json<{ id: string }>().id;
    await failForAnHour(lonely.accountId);
    expect((await as(lonely, 'GET', `/api/v1/webhooks/${id}`)).json()).toMatchObject({ state: 'paused' });
    expect(mailsTo(url)).toEqual([]);
    expect((await as(lonely, 'GET', '/api/v1/alerts?type=webhook_endpoint_paused')).json<{ items: unknown[] }>().items).toHaveLength(1);
  });
});

describe.each(testDialects())('webhook targets on %s', (dialect) => {
  let t: TestPlatform;
  let tenant: Tenant;

  beforeAll(async () => {
    t = await startTestPlatform(dialect, { WEBHOOK_ALLOW_PRIVATE: 'false' });
    tenant = await createTenant(t, 'enterprise', 'Enterprise');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are public by default: loopback, link-local and private hosts are refused at creation and update', async () => {
    expect(loadConfig({}).webhooks.allowPrivateTargets).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivateTargets).toBe(true);
    const post = (url: string) => t.api('POST', '/api/v1/webhooks', { url }, { key: tenant.key });
    for (const url of ['http://127.0.0.1:8080/hooks', 'http://localhost/hooks', 'http://169.254.169.254/latest', 'https://10.0.0.5/hooks', 'https://[::1]/hooks']) {
      const res = await post(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'invalid_webhook_url', detail: expect.stringContaining('WEBHOOK_ALLOW_PRIVATE=true') });
    }
    const created = await post('https://hooks.example.com/meridian');
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    const patched = await t.api('PATCH', `/api/v1/webhooks/${id}`, { url: 'http://192.168.1.10/hooks' }, { key: tenant.key });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().detail).toContain('192.168.1.10 is a private address');
    expect((await t.api('PATCH', `/api/v1/webhooks/${id}`, { url: 'ftp://hooks.example.com/' }, { key: tenant.key })).json().code).toBe('invalid_webhook_url');
    expect((await t.api('GET', `/api/v1/webhooks/${id}`, undefined, { key: tenant.key })).json()).toMatchObject({ url: 'https://hooks.example.com/meridian' });
  });
});
