import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEventDocs } from '../src/modules/events/event-docs.ts';
import { publishEvents } from '../src/modules/events/event.repository.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

interface Tenant {
  accountId: string;
  key: string;
}

describe('event catalogue page', () => {
  it('docs/events.md is current (regenerate with npm run events-doc)', () => {
    expect(readFileSync(new URL('../docs/events.md', import.meta.url), 'utf8')).toBe(renderEventDocs());
  });
});

describe.each(testDialects())('events and alerts on %s', (dialect) => {
  let t: TestPlatform;
  let resellerA: Tenant;
  let resellerB: Tenant;
  let enterpriseA: Tenant;
  const simA = iccidFor(11);
  const simB = iccidFor(21);

  const as = (who: Tenant | undefined, method: string, url: string, body?: unknown) => t.api(method, url, body, who ? { key: who.key } : {});

  async function importSims(csv: string, accountId: string): Promise<void> {
    const res = await t.api('POST', `/api/v1/sims/imports?accountId=${accountId}`, csv);
    expect(res.statusCode, res.body).toBe(202);
    await t.drainJobs();
  }

  const raise = (accountId: string, extra: Record<string, unknown> = {}) =>
    t.platform.services.alerts.raise(
      t.platform.services.db,
      [{ accountId, type: 'imei_mismatch', severity: 'warning', subject: { kind: 'sim', id: simA }, message: `IMEI changed on SIM ${simA}`, data: { imei: '490154203237518' }, ...extra }],
      t.clock.now(),
    );

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    resellerA = await createTenant(t, 'reseller', 'Reseller A');
    resellerB = await createTenant(t, 'reseller', 'Reseller B');
    enterpriseA = await createTenant(t, 'enterprise', 'Enterprise A1', { parentId: resellerA.accountId, key: resellerA.key });
    await importSims(simCsv(11, 2), enterpriseA.accountId);
    await importSims(simCsv(21, 1), resellerB.accountId);
  });
  afterAll(() => t?.close());

  describe('events', () => {
    it('publishes sim.state_changed for imported SIMs and for each committed state change, with the change record', async () => {
      const imported = (await t.api('GET', `/api/v1/events?type=sim.state_changed&subjectKind=sim&subjectId=${simA}`)).json().items;
      expect(imported).toHaveLength(1);
      expect(imported[0]).toMatchObject({ type: 'sim.state_changed', accountId: enterpriseA.accountId, subject: { kind: 'sim', id: simA } });
      expect(imported[0].data).toMatchObject({ iccid: simA, from: null, to: 'inventory', source: 'api' });

      t.clock.advance(60_000);
      const moved = await as(enterpriseA, 'POST', `/api/v1/sims/${simA}/state`, { state: 'active', reason: 'go live' });
      expect(moved.statusCode, moved.body).toBe(200);
      const events = (await t.api('GET', `/api/v1/events?type=sim.*&subjectKind=sim&subjectId=${simA}`)).json().items;
      expect(events.map((e: { data: { to: string } }) => e.data.to)).toEqual(['active', 'inventory']);
      const change = (await t.api('GET', `/api/v1/sims/${simA}/changes?field=state`)).json().items[0];
      expect(events[0].data).toEqual({
        iccid: simA,
        from: 'inventory',
        to: 'active',
        suspendReason: null,
        reason: 'go live',
        source: 'api',
        actor: expect.stringMatching(/^key:/),
        jobId: null,
        changeRecordId: change.id,
      });
      expect(events[0].occurredAt).toBe(t.clock.now().toISOString());
      expect(events[0].sequence).toBeGreaterThan(events[1].sequence);
    });

    it('publishes nothing for a state change the network refused', async () => {
      t.simulator.setBehaviour({ failIccids: [iccidFor(12)] });
      const before = (await t.api('GET', `/api/v1/events?subjectKind=sim&subjectId=${iccidFor(12)}`)).json().items.length;
      const res = await as(enterpriseA, 'POST', `/api/v1/sims/${iccidFor(12)}/state`, { state: 'active' });
      expect(res.statusCode).toBe(502);
      t.simulator.setBehaviour({ failIccids: [] });
      expect((await t.api('GET', `/api/v1/events?subjectKind=sim&subjectId=${iccidFor(12)}`)).json().items).toHaveLength(before);
    });

    it('publishes sim.updated with every changed field', async () => {
      const res = await as(enterpriseA, 'PATCH', `/api/v1/sims/${simA}`, { deviceName: 'meter 7', labels: ['north'] });
      expect(res.statusCode, res.body).toBe(200);
      const [e] = (await t.api('GET', `/api/v1/events?type=sim.updated&subjectId=${simA}`)).json().items;
      expect(e.data.changes).toEqual(
        expect.arrayContaining([
          { field: 'device_name', oldValue: null, newValue: 'meter 7' },
          expect.objectContaining({ field: 'labels' }),
        ]),
      );
    });

    it('pages with a cursor in both directions and filters by time and account', async () => {
      const all = (await t.api('GET', '/api/v1/events?order=asc&limit=1000')).json().items;
      expect(all.length).toBeGreaterThanOrEqual(5);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = (await t.api('GET', `/api/v1/events?order=asc&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((e: { id: string }) => e.id));
      const desc = (await t.api('GET', '/api/v1/events?limit=1000')).json().items;
      expect(desc.map((e: { id: string }) => e.id)).toEqual([...seen].reverse());

      const last = all.at(-1);
      const from = (await t.api('GET', `/api/v1/events?from=${last.occurredAt}`)).json().items;
      expect(from.every((e: { occurredAt: string }) => e.occurredAt >= last.occurredAt)).toBe(true);
      expect((await t.api('GET', `/api/v1/events?to=${all[0].occurredAt}`)).json().items).toEqual([]);
      const ofB = (await t.api('GET', `/api/v1/events?accountId=${resellerB.accountId}`)).json().items;
      expect(ofB.map((e: { subject: { id: string } }) => e.subject.id)).toEqual([simB]);
      expect((await t.api('GET', `/api/v1/events/${last.id}`)).json()).toEqual(last);
    });

    it('rejects a bad cursor, a bad type pattern and an empty time range with a clear problem', async () => {
      const cursor = await t.api('GET', '/api/v1/events?cursor=nonsense');
      expect(cursor.statusCode).toBe(400);
      expect(cursor.json().code).toBe('invalid_cursor');
      const type = await t.api('GET', '/api/v1/events?type=sim.*.x');
      expect(type.statusCode).toBe(400);
      expect(type.json().code).toBe('validation_failed');
      const range = await t.api('GET', '/api/v1/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
      expect(range.json().code).toBe('invalid_time_range');
    });

    it('an event written in a transaction that rolls back does not exist', async () => {
      const { db } = t.platform.services;
      await expect(
        db.transaction().execute(async (trx) => {
          await publishEvents(trx, [{ type: 'alert.handled', accountId: resellerA.accountId, subject: { kind: 'alert', id: 'alr_x' }, data: { alertId: 'alr_x', type: 'x', severity: 'info', handledBy: 'user:x', remark: null } }], t.clock.now());
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await t.api('GET', '/api/v1/events?subjectKind=alert&subjectId=alr_x')).json().items).toEqual([]);
    });

    it('refuses an event type outside the catalogue or a payload that does not match its schema', async () => {
      const { db } = t.platform.services;
      await expect(publishEvents(db, [{ type: 'sim.exploded', accountId: resellerA.accountId, subject: { kind: 'sim', id: simA }, data: {} }], t.clock.now())).rejects.toThrow(/not in the event catalogue/);
      await expect(publishEvents(db, [{ type: 'sim.state_changed', accountId: resellerA.accountId, subject: { kind: 'sim', id: simA }, data: { iccid: 1 } }], t.clock.now())).rejects.toThrow(/does not match its schema/);
    });

    it('shows a tenant only the events of its own subtree', async () => {
      const ofA = (await as(resellerA, 'GET', '/api/v1/events?limit=1000')).json().items;
      expect(ofA.length).toBeGreaterThan(0);
      expect(ofA.every((e: { accountId: string }) => e.accountId === enterpriseA.accountId || e.accountId === resellerA.accountId)).toBe(true);
      const ofB = (await as(resellerB, 'GET', '/api/v1/events?limit=1000')).json().items;
      expect(ofB.map((e: { subject: { id: string } }) => e.subject.id)).toEqual([simB]);
      expect((await as(resellerB, 'GET', `/api/v1/events/${ofA[0].id}`)).statusCode).toBe(404);
      expect((await as(resellerB, 'GET', `/api/v1/events?accountId=${enterpriseA.accountId}`)).json().code).toBe('account_not_found');
      expect((await as(resellerB, 'GET', `/api/v1/events?subjectKind=sim&subjectId=${simA}`)).json().items).toEqual([]);
    });
  });

  describe('alerts', () => {
    it('raises an alert with alert.raised in the same transaction, and nothing when that transaction rolls back', async () => {
      const [alert] = await raise(enterpriseA.accountId);
      const got = await as(enterpriseA, 'GET', `/api/v1/alerts/${alert!.id}`);
      expect(got.statusCode).toBe(200);
      expect(got.json()).toMatchObject({ id: alert!.id, state: 'unhandled', severity: 'warning', type: 'imei_mismatch', subject: { kind: 'sim', id: simA }, handledBy: null });
      const events = (await t.api('GET', `/api/v1/events?type=alert.raised&subjectId=${alert!.id}`)).json().items;
      expect(events).toHaveLength(1);
      expect(events[0].data).toMatchObject({ alertId: alert!.id, severity: 'warning', alertSubject: { kind: 'sim', id: simA } });

      const { db } = t.platform.services;
      let rolledBack = '';
      await expect(
        db.transaction().execute(async (trx) => {
          const [a] = await t.platform.services.alerts.raise(trx, [{ accountId: enterpriseA.accountId, type: 'rolled_back', severity: 'info', subject: { kind: 'sim', id: simA }, message: 'never' }], t.clock.now());
          rolledBack = a!.id;
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await t.api('GET', `/api/v1/alerts/${rolledBack}`)).statusCode).toBe(404);
      expect((await t.api('GET', `/api/v1/events?subjectId=${rolledBack}`)).json().items).toEqual([]);
    });

    it('filters on every field and pages newest first', async () => {
      t.clock.advance(60_000);
      await raise(enterpriseA.accountId, { type: 'data_threshold', severity: 'critical', message: 'SIM used 95% of its data', subject: { kind: 'sim', id: iccidFor(12) } });
      t.clock.advance(60_000);
      await raise(resellerA.accountId, { type: 'data_threshold', severity: 'info', message: 'pool at 80%', subject: { kind: 'pool', id: 'pool_1' } });
      const q = async (query: string, who: Tenant | undefined = resellerA) => {
        const res = await as(who, 'GET', `/api/v1/alerts?${query}`);
        expect(res.statusCode, res.body).toBe(200);
        return res.json().items.map((a: { message: string }) => a.message);
      };
      expect(await q('')).toEqual(['pool at 80%', 'SIM used 95% of its data', `IMEI changed on SIM ${simA}`]);
      expect(await q('type=data_threshold')).toEqual(['pool at 80%', 'SIM used 95% of its data']);
      expect(await q('severity=critical,warning')).toEqual(['SIM used 95% of its data', `IMEI changed on SIM ${simA}`]);
      expect(await q('subjectKind=pool')).toEqual(['pool at 80%']);
      expect(await q(`subjectKind=sim&subjectId=${iccidFor(12)}`)).toEqual(['SIM used 95% of its data']);
      expect(await q(`accountId=${resellerA.accountId}`)).toEqual(['pool at 80%']);
      expect(await q('state=handled')).toEqual([]);
      expect(await q('q=95%25 DATA')).toEqual(['SIM used 95% of its data']);
      expect(await q('q=%25')).toHaveLength(2);
      const all = (await as(resellerA, 'GET', '/api/v1/alerts')).json().items;
      expect(await q(`from=${all[1].raisedAt}`)).toEqual(['pool at 80%', 'SIM used 95% of its data']);
      expect(await q(`to=${all[1].raisedAt}`)).toEqual([`IMEI changed on SIM ${simA}`]);
      const first = (await as(resellerA, 'GET', '/api/v1/alerts?limit=2')).json();
      expect(first.items).toHaveLength(2);
      const second = (await as(resellerA, 'GET', `/api/v1/alerts?limit=2&cursor=${first.nextCursor}`)).json();
      expect(second.items.map((a: { id: string }) => a.id)).toEqual([all[2].id]);
      expect(second.nextCursor).toBeNull();
      expect((await as(resellerA, 'GET', '/api/v1/alerts?severity=fatal')).json().code).toBe('validation_failed');
    });

    it('handles one alert with a remark (alert.handled), and refuses to handle it twice', async () => {
      const [alert] = await raise(enterpriseA.accountId, { type: 'sim_offline', message: 'SIM offline for 24 h' });
      const res = await as(enterpriseA, 'POST', `/api/v1/alerts/${alert!.id}/handle`, { remark: 'device replaced' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ state: 'handled', remark: 'device replaced', handledBy: expect.stringMatching(/^key:/), handledAt: t.clock.now().toISOString() });
      const [event] = (await t.api('GET', `/api/v1/events?type=alert.handled&subjectId=${alert!.id}`)).json().items;
      expect(event.data).toMatchObject({ alertId: alert!.id, remark: 'device replaced' });
      const again = await as(enterpriseA, 'POST', `/api/v1/alerts/${alert!.id}/handle`, { remark: 'again' });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('alert_already_handled');
      expect((await as(enterpriseA, 'GET', `/api/v1/alerts?state=handled&q=replaced`)).json().items.map((a: { id: string }) => a.id)).toEqual([alert!.id]);
    });

    it('handles many alerts by ids or by filter; already handled ones are left alone', async () => {
      const raised = [];
      for (let i = 0; i < 3; i++) raised.push(...(await raise(enterpriseA.accountId, { type: 'bulk_case', message: `case ${i}` })));
      const byIds = await as(resellerA, 'POST', '/api/v1/alerts/handle', { ids: [raised[0]!.id, raised[1]!.id], remark: 'batch 1' });
      expect(byIds.json()).toEqual({ handled: 2, more: false });
      const byFilter = await as(resellerA, 'POST', '/api/v1/alerts/handle', { filter: { type: ['bulk_case'] }, remark: 'batch 2' });
      expect(byFilter.json()).toEqual({ handled: 1, more: false });
      const handled = (await as(resellerA, 'GET', '/api/v1/alerts?type=bulk_case&state=handled')).json().items;
      expect(handled.map((a: { remark: string }) => a.remark).sort()).toEqual(['batch 1', 'batch 1', 'batch 2']);
      const both = await as(resellerA, 'POST', '/api/v1/alerts/handle', { ids: ['alr_x'], filter: {} });
      expect(both.statusCode).toBe(400);
    });

    it('keeps alerts within the tenant: another reseller can neither see nor handle them', async () => {
      const [alert] = await raise(enterpriseA.accountId, { type: 'tenant_case', message: 'only for A' });
      expect((await as(resellerB, 'GET', `/api/v1/alerts/${alert!.id}`)).statusCode).toBe(404);
      expect((await as(resellerB, 'GET', '/api/v1/alerts?type=tenant_case')).json().items).toEqual([]);
      const handle = await as(resellerB, 'POST', `/api/v1/alerts/${alert!.id}/handle`, { remark: 'not mine' });
      expect(handle.statusCode).toBe(404);
      expect(handle.json().code).toBe('alert_not_found');
      expect((await as(resellerB, 'POST', '/api/v1/alerts/handle', { ids: [alert!.id] })).json()).toEqual({ handled: 0, more: false });
      expect((await as(resellerB, 'POST', '/api/v1/alerts/handle', { filter: {} })).json().handled).toBe(0);
      expect((await as(resellerB, 'POST', '/api/v1/alerts/handle', { filter: { accountId: enterpriseA.accountId } })).statusCode).toBe(404);
      expect((await as(enterpriseA, 'GET', `/api/v1/alerts/${alert!.id}`)).json().state).toBe('unhandled');
      // A read-only key sees alerts but may not handle them.
      const readOnly = await createTenant(t, 'enterprise', 'Enterprise A2', { parentId: resellerA.accountId, key: resellerA.key, role: 'read_only' });
      const [own] = await raise(readOnly.accountId, { type: 'ro_case', message: 'read only' });
      expect((await as(readOnly, 'POST', `/api/v1/alerts/${own!.id}/handle`, {})).statusCode).toBe(403);
    });
  });
});
