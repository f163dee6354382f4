import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishEvents } from '../src/modules/events/event.repository.ts';
import { claimDueDeliveries } from '../src/modules/webhooks/webhook.repository.ts';
import { verifySignature } from '../src/modules/webhooks/webhook.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { WebhookReceiver } from './support/receiver.ts';

interface Tenant {
  accountId: string;
  key: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE_MS = 10_000;

describe.each(testDialects())('webhooks on %s', (dialect) => {
  let t: TestPlatform;
  let resellerA: Tenant;
  let resellerB: Tenant;
  let enterpriseA: Tenant;
  let receiver: WebhookReceiver;
  let counter = 0;

  const as = (who: Tenant | undefined, method: string, url: string, body?: unknown) => t.api(method, url, body, who ? { key: who.key } : {});
  const settle = () => t.platform.dispatcher.settle();

  /** A fresh enterprise account with an endpoint to the receiver; events of that account reach only it. */
  async function endpointFor(eventTypes: string[] = ['*'], parent: Tenant = resellerA): Promise<{ tenant: Tenant; id: string; secret: string }> {
    const tenant = await createTenant(t, 'enterprise', `Enterprise ${++counter}`, { parentId: parent.accountId, key: parent.key });
    const res = await as(tenant, 'POST', '/api/v1/webhooks', { url: receiver.url, eventTypes, description: `test ${counter}` });
    expect(res.statusCode, res.body).toBe(201);
    return { tenant, id: res.json().id, secret: res.json().secret };
  }

  /** Publishes an event of the account by raising an alert (alert.raised). */
  async function emit(accountId: string, message = 'something happened'): Promise<string> {
    const [alert] = await t.platform.services.alerts.raise(
      t.platform.services.db,
      [{ accountId, type: 'test_case', severity: 'info', subject: { kind: 'account', id: accountId }, message }],
      t.clock.now(),
    );
    const [event] = (await t.api('GET', `/api/v1/events?type=alert.raised&subjectId=${alert!.id}`)).json().items;
    return event.id as string;
  }

  const deliveries = async (endpointId: string, who?: Tenant) => (await as(who, 'GET', `/api/v1/webhooks/${endpointId}/deliveries?limit=1000`)).json().items;
  const delivery = async (endpointId: string, id: string) => (await t.api('GET', `/api/v1/webhooks/${endpointId}/deliveries/${id}`)).json();

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_RETRY_BASE_MS: String(BASE_MS),
      WEBHOOK_RETRY_MAX_MS: String(HOUR),
      WEBHOOK_PAUSE_AFTER_FAILURES: '4',
      WEBHOOK_PAUSE_AFTER_MINUTES: '60',
    }, { onDisk: true });
    resellerA = await createTenant(t, 'reseller', 'Reseller A');
    resellerB = await createTenant(t, 'reseller', 'Reseller B');
    enterpriseA = await createTenant(t, 'enterprise', 'Enterprise A1', { parentId: resellerA.accountId, key: resellerA.key });
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await t?.close();
  });
  beforeEach(async () => {
    // Every test starts from an idle outbox and a healthy receiver.
    receiver.mode = { kind: 'ok' };
    if (!receiver.listening) await receiver.start();
    await settle();
    receiver.requests.length = 0;
    receiver.hits = 0;
  });

  describe('endpoints', () => {
    it('registers an endpoint with a secret shown once, lists, changes and removes it', async () => {
      const created = await as(enterpriseA, 'POST', '/api/v1/webhooks', { url: 'https://example.com/hooks', eventTypes: ['sim.*', 'alert.raised'] });
      expect(created.statusCode, created.body).toBe(201);
      const body = created.json();
      expect(body).toMatchObject({ accountId: enterpriseA.accountId, url: 'https://example.com/hooks', eventTypes: ['sim.*', 'alert.raised'], state: 'enabled', consecutiveFailures: 0 });
      expect(body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
      const shown = (await as(enterpriseA, 'GET', `/api/v1/webhooks/${body.id}`)).json();
      expect(shown.secret).toBeUndefined();
      expect(shown.secretHint).toBe(`${body.secret.slice(0, 10)}…`);
      expect((await as(resellerA, 'GET', '/api/v1/webhooks')).json().items.map((e: { id: string }) => e.id)).toContain(body.id);

      const patched = await as(enterpriseA, 'PATCH', `/api/v1/webhooks/${body.id}`, { eventTypes: ['*'], description: 'all of it', state: 'paused' });
      expect(patched.json()).toMatchObject({ eventTypes: ['*'], description: 'all of it', state: 'paused', pausedReason: 'paused by a user' });
      const rotated = (await as(enterpriseA, 'POST', `/api/v1/webhooks/${body.id}/secret`)).json();
      expect(rotated.secret).not.toBe(body.secret);
      expect((await as(enterpriseA, 'DELETE', `/api/v1/webhooks/${body.id}`)).statusCode).toBe(204);
      expect((await as(enterpriseA, 'GET', `/api/v1/webhooks/${body.id}`)).statusCode).toBe(404);
    });

    it('says what is wrong with a URL or an event type', async () => {
      const bad = await as(enterpriseA, 'POST', '/api/v1/webhooks', { url: 'ftp://example.com/x' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'invalid_webhook_url', detail: expect.stringContaining('http:// or https://') });
      expect((await as(enterpriseA, 'POST', '/api/v1/webhooks', { url: 'example.com' })).json().code).toBe('invalid_webhook_url');
      const pattern = await as(enterpriseA, 'POST', '/api/v1/webhooks', { url: 'https://example.com', eventTypes: ['sim*'] });
      expect(pattern.json().code).toBe('validation_failed');
      const readOnly = await createTenant(t, 'enterprise', 'Read only', { parentId: resellerA.accountId, key: resellerA.key, role: 'read_only' });
      expect((await as(readOnly, 'POST', '/api/v1/webhooks', { url: 'https://example.com' })).statusCode).toBe(403);
    });

    it("keeps endpoints within the tenant: another reseller can neither see nor change them", async () => {
      const { id } = await endpointFor();
      expect((await as(resellerB, 'GET', `/api/v1/webhooks/${id}`)).statusCode).toBe(404);
      expect((await as(resellerB, 'GET', '/api/v1/webhooks')).json().items).toEqual([]);
      expect((await as(resellerB, 'PATCH', `/api/v1/webhooks/${id}`, { url: 'https://evil.example' })).statusCode).toBe(404);
      expect((await as(resellerB, 'POST', `/api/v1/webhooks/${id}/replay`, { from: '2020-01-01T00:00:00Z' })).statusCode).toBe(404);
      expect((await as(resellerB, 'GET', `/api/v1/webhooks/${id}/deliveries`)).statusCode).toBe(404);
      expect((await as(resellerB, 'DELETE', `/api/v1/webhooks/${id}`)).statusCode).toBe(404);
      expect((await as(resellerB, 'POST', '/api/v1/webhooks', { url: 'https://x.example', accountId: enterpriseA.accountId })).statusCode).toBe(404);
    });
  });

  describe('delivery', () => {
    it('delivers a SIM state change as a signed CloudEvents envelope the receiver can verify', async () => {
      const { tenant, id, secret } = await endpointFor(['sim.*']);
      const iccid = iccidFor(101);
      expect((await t.api('POST', `/api/v1/sims/imports?accountId=${tenant.accountId}`, simCsv(101, 1))).statusCode).toBe(202);
      await t.drainJobs();
      await emit(tenant.accountId); // alert.raised: not in the endpoint's types
      expect((await as(tenant, 'POST', `/api/v1/sims/${iccid}/state`, { state: 'active' })).statusCode).toBe(200);
      const pass = await settle();
      expect(pass.delivered).toBe(2);
      expect(receiver.requests).toHaveLength(2);
      const [imported, activated] = receiver.bodies().sort((a, b) => Number(a.sequence) - Number(b.sequence));
      expect(imported).toMatchObject({ type: 'sim.state_changed', data: { from: null, to: 'inventory' } });
      const event = (await t.api('GET', `/api/v1/events?type=sim.state_changed&subjectId=${iccid}`)).json().items[0];
      expect(activated).toEqual({
        specversion: '1.0',
        id: event.id,
        type: 'sim.state_changed',
        source: `/accounts/${tenant.accountId}`,
        subject: `sim/${iccid}`,
        time: event.occurredAt,
        datacontenttype: 'application/json',
        sequence: String(event.sequence),
        accountid: tenant.accountId,
        data: event.data,
      });
      const request = receiver.requests.find((r) => r.body.includes(event.id))!;
      expect(request.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
      expect(request.headers['meridian-event-id']).toBe(event.id);
      const signature = request.headers['meridian-signature'] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifySignature(secret, signature, request.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifySignature(secret, signature, request.body.replace('active', 'retired'), Math.floor(Date.now() / 1000))).toBe(false);
      expect(verifySignature(`${secret}x`, signature, request.body, Math.floor(Date.now() / 1000))).toBe(false);

      const log = await deliveries(id, tenant);
      expect(log.map((d: { state: string }) => d.state)).toEqual(['delivered', 'delivered']);
      const one = await delivery(id, log[0].id);
      expect(one.log).toEqual([{ attempt: 1, startedAt: expect.any(String), durationMs: expect.any(Number), statusCode: 204, error: null, ok: true }]);
    });

    it("sends an endpoint the events of its account's subtree and never another tenant's", async () => {
      const ofB = await endpointFor(['*'], resellerB);
      const childOfA = await createTenant(t, 'enterprise', 'Child of A', { parentId: resellerA.accountId, key: resellerA.key });
      const ofResellerA = await as(resellerA, 'POST', '/api/v1/webhooks', { url: `${receiver.url}?who=a`, eventTypes: ['alert.*'] });
      const eventOfChild = await emit(childOfA.accountId);
      const eventOfB = await emit(ofB.tenant.accountId);
      await settle();
      const aIds = (await deliveries(ofResellerA.json().id, resellerA)).map((d: { eventId: string }) => d.eventId);
      const bIds = (await deliveries(ofB.id, ofB.tenant)).map((d: { eventId: string }) => d.eventId);
      expect(aIds).toContain(eventOfChild);
      expect(aIds).not.toContain(eventOfB);
      expect(bIds).toEqual([eventOfB]);
      await as(resellerA, 'DELETE', `/api/v1/webhooks/${ofResellerA.json().id}`);
    });

    it('never delivers an event whose transaction rolled back', async () => {
      const { tenant, id } = await endpointFor();
      await expect(
        t.platform.services.db.transaction().execute(async (trx) => {
          await publishEvents(trx, [{ type: 'alert.handled', accountId: tenant.accountId, subject: { kind: 'alert', id: 'alr_gone' }, data: { alertId: 'alr_gone', type: 'x', severity: 'info', handledBy: 'user:x', remark: null } }], t.clock.now());
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await settle();
      expect(await deliveries(id, tenant)).toEqual([]);
      expect(receiver.hits).toBe(0);
    });

    it('retries while the receiver is down and delivers once it is back', async () => {
      const { tenant, id } = await endpointFor();
      await receiver.stop();
      const eventId = await emit(tenant.accountId);
      await settle();
      const [pending] = await deliveries(id, tenant);
      expect(pending).toMatchObject({ eventId, state: 'pending', attempts: 1, lastStatusCode: null, lastError: expect.stringMatching(/^ECONN(REFUSED|RESET)/) });
      await receiver.start();
      // Not yet due: nothing is sent before the retry time.
      await settle();
      expect(receiver.hits).toBe(0);
      t.clock.set(pending.nextAttemptAt);
      await settle();
      const [done] = await deliveries(id, tenant);
      expect(done).toMatchObject({ state: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null });
      expect(receiver.requests.map((r) => r.headers['meridian-event-id'])).toEqual([eventId]);
      expect(receiver.requests[0]!.headers['meridian-attempt']).toBe('2');
    });

    it('records a timeout for a slow receiver and retries', async () => {
      const { tenant, id } = await endpointFor();
      receiver.mode = { kind: 'slow', ms: 2000 };
      await emit(tenant.accountId);
      await settle();
      const [slow] = await deliveries(id, tenant);
      expect(slow).toMatchObject({ state: 'pending', attempts: 1, lastError: 'no answer within 300 ms' });
      const attempt = (await delivery(id, slow.id)).log[0];
      expect(attempt.durationMs).toBeGreaterThanOrEqual(290);
      expect(attempt.durationMs).toBeLessThan(1500);
      receiver.mode = { kind: 'ok' };
      t.clock.set(slow.nextAttemptAt);
      await settle();
      expect((await deliveries(id, tenant))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
    });

    it('retries a 500 with exponential backoff and full jitter, then gives up after 24 hours', async () => {
      const { tenant, id } = await endpointFor();
      receiver.mode = { kind: 'status', status: 500 };
      await emit(tenant.accountId);
      const waits: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        await settle();
        const [d] = await deliveries(id, tenant);
        expect(d).toMatchObject({ state: 'pending', attempts: attempt, lastStatusCode: 500, lastError: 'HTTP 500: receiver broken' });
        const wait = new Date(d.nextAttemptAt).getTime() - t.clock.now().getTime();
        expect(wait).toBeGreaterThanOrEqual(1000);
        expect(wait).toBeLessThanOrEqual(BASE_MS * 2 ** (attempt - 1));
        waits.push(wait);
        t.clock.set(d.nextAttemptAt);
      }
      expect(receiver.hits).toBe(3);
      // Past the 24-hour window the next failure is final.
      t.clock.advance(25 * HOUR);
      await settle();
      const [failed] = await deliveries(id, tenant);
      expect(failed).toMatchObject({ state: 'failed', attempts: 4, nextAttemptAt: null, finishedAt: t.clock.now().toISOString() });
      expect((await delivery(id, failed.id)).log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 500]);
      await as(tenant, 'DELETE', `/api/v1/webhooks/${id}`);
    });

    it('pauses an endpoint that fails continuously for an hour, alerts its owner, and resumes on request', async () => {
      const { tenant, id } = await endpointFor();
      receiver.mode = { kind: 'status', status: 503 };
      for (let i = 0; i < 5; i++) await emit(tenant.accountId, `event ${i}`);
      await settle();
      // Five failures in a row, but not yet for an hour: still enabled.
      expect((await as(tenant, 'GET', `/api/v1/webhooks/${id}`)).json()).toMatchObject({ state: 'enabled', consecutiveFailures: 5 });
      t.clock.advance(HOUR);
      await settle();
      const paused = (await as(tenant, 'GET', `/api/v1/webhooks/${id}`)).json();
      expect(paused).toMatchObject({ state: 'paused', pausedReason: expect.stringContaining('failed attempts in a row'), consecutiveFailures: 10 });
      const alerts = (await as(tenant, 'GET', '/api/v1/alerts?type=webhook_endpoint_paused')).json().items;
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ accountId: tenant.accountId, severity: 'warning', subject: { kind: 'webhook', id }, state: 'unhandled' });
      const [event] = (await as(tenant, 'GET', '/api/v1/events?type=webhook.endpoint_paused')).json().items;
      expect(event).toMatchObject({ subject: { kind: 'webhook', id }, data: { endpointId: id, lastError: 'HTTP 503: receiver broken' } });
      // On PostgreSQL the two delivery lanes may share the five retries: the lane that records first pauses, at 6 to 10.
      expect(event.data.consecutiveFailures).toBeGreaterThanOrEqual(6);
      expect(event.data.consecutiveFailures).toBeLessThanOrEqual(10);

      // While paused nothing is sent, and new events are not queued for it.
      const hits = receiver.hits;
      t.clock.advance(HOUR);
      const missed = await emit(tenant.accountId, 'while paused');
      await settle();
      expect(receiver.hits).toBe(hits);
      expect((await deliveries(id, tenant)).map((d: { eventId: string }) => d.eventId)).not.toContain(missed);

      receiver.mode = { kind: 'ok' };
      const resumed = await as(tenant, 'PATCH', `/api/v1/webhooks/${id}`, { state: 'enabled' });
      expect(resumed.json()).toMatchObject({ state: 'enabled', consecutiveFailures: 0, failingSince: null, pausedReason: null });
      await settle();
      const log = await deliveries(id, tenant);
      expect(log.filter((d: { state: string }) => d.state === 'delivered')).toHaveLength(5);
      // What it missed while paused comes with a replay.
      const replay = await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { eventId: missed });
      expect(replay.statusCode).toBe(202);
      await settle();
      expect(receiver.requests.map((r) => r.headers['meridian-event-id'])).toContain(missed);
    });

    it('replays one event, or every matching event since a time, with the same event ids', async () => {
      const { tenant, id } = await endpointFor(['alert.*']);
      const since = t.clock.advance(MINUTE).toISOString();
      const first = await emit(tenant.accountId, 'first');
      const second = await emit(tenant.accountId, 'second');
      await settle();
      expect(receiver.requests).toHaveLength(2);
      receiver.requests.length = 0;

      const one = await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { eventId: first });
      expect(one.json()).toEqual({ deliveries: 1 });
      await settle();
      expect(receiver.bodies().map((b) => b.id)).toEqual([first]);
      receiver.requests.length = 0;

      const all = await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { from: since });
      expect(all.json()).toEqual({ deliveries: 2 });
      await settle();
      expect(receiver.bodies().map((b) => b.id).sort()).toEqual([first, second].sort());
      const log = await deliveries(id, tenant);
      expect(log.filter((d: { replay: boolean }) => d.replay)).toHaveLength(3);

      const other = await endpointFor(['*'], resellerB);
      const foreign = await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { eventId: await emit(other.tenant.accountId) });
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().code).toBe('event_not_found');
      expect((await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { from: since, to: since })).json().code).toBe('invalid_time_range');
    });

    it('resumes after a restart: events written before it are delivered, an attempt cut off by a crash is made again', async () => {
      const { tenant, id } = await endpointFor();
      const before = await emit(tenant.accountId, 'before the restart');
      await t.restart();
      await settle();
      expect(receiver.requests.map((r) => r.headers['meridian-event-id'])).toEqual([before]);

      // A dispatcher that claimed a delivery and died before recording the attempt.
      const lost = await emit(tenant.accountId, 'claimed, then crashed');
      await settle();
      receiver.requests.length = 0;
      receiver.hits = 0;
      await as(tenant, 'POST', `/api/v1/webhooks/${id}/replay`, { eventId: lost });
      const now = t.clock.now();
      const claimed = await claimDueDeliveries(t.platform.services.db, now, new Date(now.getTime() + 70_000), 100);
      expect(claimed.map((c) => c.event.id)).toEqual([lost]);
      await t.restart();
      await settle();
      expect(receiver.hits).toBe(0);
      t.clock.advance(71_000);
      await settle();
      expect(receiver.requests.map((r) => r.headers['meridian-event-id'])).toEqual([lost]);
    });
  });
});
