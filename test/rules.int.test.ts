import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountingInput } from '../src/modules/usage/accounting.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, importAndActivate, installChinaCatalog, startTestPlatform, type TestPlatform } from './support/platform.ts';

const gateway = { id: 'gw_rules', accountId: '' };
const KB = 1024;

const packet = (serial: number, session: string, over: Partial<AccountingInput>): AccountingInput =>
  accountingInput({ acctSessionId: session, imsi: imsiFor(serial), framedIp: null, cell: null, ...over });

interface Firing {
  id: number;
  ruleId: string;
  iccid: string | null;
  subject: { kind: string; id: string };
  period: string;
  stage: string;
  inputs: Record<string, unknown>;
  status: string;
  actions: { type: string; status: string; detail: string | null }[];
}

describe.each(testDialects())('automation rules on %s', (dialect) => {
  let t: TestPlatform;
  const engine = () => t.platform.services.usage;
  const db = () => t.platform.services.db;
  const runtime = () => t.platform.ruleRuntime;
  const createRule = async (body: Record<string, unknown>, key?: string) => {
    const res = await t.api('POST', '/api/v1/rules', body, { key });
    expect(res.statusCode, res.body).toBe(201);
    await runtime().reload();
    return res.json<{ id: string }>().id;
  };
  const firings = async (ruleId: string, key?: string) => {
    await runtime().settle();
    const res = await t.api('GET', `/api/v1/rule-firings?ruleId=${ruleId}&limit=1000`, undefined, { key });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Firing[] }>().items.reverse();
  };
  const stateOf = async (iccid: string) => (await t.api('GET', `/api/v1/sims/${iccid}`)).json<{ state: string; suspendReason: string | null }>();
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect, {}, { onDisk: true });
    await importAndActivate(t, simCsv(1, 12));
    const plan = createRatePlan({
      id: 'cn-1mb',
      name: 'cn-1mb',
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      monthlyFeeMicros: 5_000_000,
      includedBytes: MB,
      coverageZoneIds: ['CN'],
      overage: { pricePerMbMicros: 1_000_000, capMicros: null },
      cutoffBytes: null,
      ratingIncrementBytes: 1024,
    });
    await installChinaCatalog(t, [plan]);
    await sql`UPDATE sims SET plan_id = 'cn-1mb' WHERE iccid = any(${[iccidFor(1), iccidFor(2)]}::text[])`.execute(db());
    engine().rating.simsChanged();
    for (const s of [1, 2]) await engine().sims.refresh(iccidFor(s));
  });
  afterAll(() => t?.close());

  it('fires each stage of a staged 70/90/100 % rule once per cycle, and again in the next cycle', async () => {
    const ruleId = await createRule({
      name: 'staged',
      scope: { kind: 'plan', id: 'cn-1mb' },
      trigger: { type: 'usage', percents: [70, 90, 100] },
      actions: [{ type: 'webhook' }],
    });
    await engine().accounting(gateway, packet(1, 'p1', { status: 'start' }));
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 600 * KB }));
    expect(await firings(ruleId)).toEqual([]);
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 800 * KB }));
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 850 * KB }));
    let list = await firings(ruleId);
    expect(list.map((f) => [f.stage, f.period])).toEqual([['70', '2026-01']]);
    expect(list[0]).toMatchObject({ iccid: iccidFor(1), subject: { kind: 'sim', id: iccidFor(1) }, status: 'done', inputs: { allowanceBytes: MB, stage: 70 } });
    expect(list[0]!.actions[0]).toMatchObject({ type: 'webhook', status: 'ok' });
    const fired = (await t.api('GET', `/api/v1/events?type=rule.fired&subjectId=${iccidFor(1)}`)).json<{ items: { data: Record<string, unknown> }[] }>().items;
    expect(fired[0]!.data).toMatchObject({ ruleId, stage: '70', period: '2026-01', trigger: 'usage' });
    // NOTE: a rule that only publishes is acted on in the transaction that records the firing: one event, naming it.
    expect(fired).toHaveLength(1);
    expect(fired[0]!.data.firingId).toBe(list[0]!.id);
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 1100 * KB }));
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 1200 * KB }));
    list = await firings(ruleId);
    expect(list.map((f) => f.stage)).toEqual(['70', '90', '100']);
    const crossed = (await t.api('GET', `/api/v1/events?type=usage.threshold_crossed&subjectId=${iccidFor(1)}&order=asc`)).json<{ items: { data: Record<string, unknown> }[] }>().items;
    expect(crossed.map((e) => e.data.percent)).toEqual([70, 90, 100]);
    expect(crossed[2]!.data).toMatchObject({ of: 'sim', planId: 'cn-1mb', cycle: '2026-01', allowanceBytes: MB, usedBytes: MB, pool: null });

    t.clock.set('2026-02-02T02:00:00Z');
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 1300 * KB }));
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 2100 * KB }));
    list = await firings(ruleId);
    expect(list.map((f) => [f.stage, f.period])).toEqual([
      ['70', '2026-01'],
      ['90', '2026-01'],
      ['100', '2026-01'],
      ['70', '2026-02'],
    ]);
    await t.restart();
    await engine().accounting(gateway, packet(1, 'p1', { bytesIn: 2120 * KB }));
    expect((await firings(ruleId)).length).toBe(4);
  });

  it('fires a megabyte threshold per day for SIMs without a plan, and keeps a cool-down between firings', async () => {
    const daily = await createRule({ name: 'daily 1 MB', scope: { kind: 'sim', iccid: iccidFor(3) }, trigger: { type: 'usage', period: 'day', megabytes: [1] }, actions: [{ type: 'webhook' }] });
    const starts = await createRule({
      name: 'starts',
      scope: { kind: 'sim', iccid: iccidFor(3) },
      trigger: { type: 'session', event: 'start' },
      actions: [{ type: 'webhook' }],
      repeat: 'every_time',
      cooldownMinutes: 10,
    });
    await engine().accounting(gateway, packet(3, 'c1', { status: 'start' }));
    await engine().accounting(gateway, packet(3, 'c1', { bytesIn: 2 * MB }));
    await engine().accounting(gateway, packet(3, 'c1', { status: 'stop', bytesIn: 3 * MB }));
    t.clock.advance(60_000);
    await engine().accounting(gateway, packet(3, 'c2', { status: 'start' }));
    expect((await firings(starts)).length).toBe(1);
    t.clock.advance(11 * 60_000);
    await engine().accounting(gateway, packet(3, 'c3', { status: 'start' }));
    expect((await firings(starts)).length).toBe(2);
    t.clock.advance(86_400_000);
    await engine().accounting(gateway, packet(3, 'c3', { bytesIn: 2 * MB }));
    expect((await firings(daily)).map((f) => f.stage)).toEqual(['1', '1']);
    expect(new Set((await firings(daily)).map((f) => f.period)).size).toBe(2);
  });

  it('combines conditions with AND and OR', async () => {
    const group = (await t.api('POST', '/api/v1/groups', { name: 'fleet-g1' })).json<{ id: string }>().id;
    await t.api('PATCH', `/api/v1/sims/${iccidFor(4)}`, { labels: ['fleet'], groupId: group });
    await t.api('PATCH', `/api/v1/sims/${iccidFor(5)}`, { labels: ['fleet'] });
    await t.api('PATCH', `/api/v1/sims/${iccidFor(6)}`, { groupId: group });
    await t.api('PATCH', `/api/v1/sims/${iccidFor(7)}`, { labels: ['fleet'], customFields: { tier: 'gold' } });
    const ruleId = await createRule({
      name: 'fleet and (group or gold)',
      scope: { kind: 'account', id: t.operatorAccountId },
      trigger: { type: 'session', event: 'start' },
      conditions: { all: [{ label: ['fleet'] }], any: [{ group: [group] }, { customField: { key: 'tier', values: ['gold'] } }] },
      actions: [{ type: 'webhook' }],
    });
    await waitFor(async () => {
      const facts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sims WHERE labels @> '{fleet}'`.execute(db());
      return facts.rows[0]!.n === 3;
    });
    await new Promise((r) => setTimeout(r, 50));
    for (const s of [4, 5, 6, 7]) await engine().accounting(gateway, packet(s, `and-or-${s}`, { status: 'start' }));
    expect((await firings(ruleId)).map((f) => f.iccid).sort()).toEqual([iccidFor(4), iccidFor(7)]);
  });

  it('suspends a SIM through the lifecycle when a suspend action fires', async () => {
    const ruleId = await createRule({
      name: 'cut at 1 MB a day',
      scope: { kind: 'sim', iccid: iccidFor(8) },
      trigger: { type: 'usage', period: 'day', megabytes: [1] },
      actions: [{ type: 'suspend' }, { type: 'notify_sms', to: '8613800138000' }],
    });
    await engine().accounting(gateway, packet(8, 's8', { status: 'start' }));
    await engine().accounting(gateway, packet(8, 's8', { bytesIn: 2 * MB }));
    const [f] = await firings(ruleId);
    expect(f!.actions[0]).toMatchObject({ type: 'suspend', status: 'ok', detail: 'active -> suspended' });
    expect(f!.actions[1]!.type).toBe('notify_sms');
    expect(await stateOf(iccidFor(8))).toMatchObject({ state: 'suspended', suspendReason: 'rule' });
    const changes = (await t.api('GET', `/api/v1/sims/${iccidFor(8)}/changes?field=state`)).json<{ items: { source: string; actor: string }[] }>().items;
    expect(changes[0]).toMatchObject({ source: 'rule', actor: `rule:${ruleId}` });
  });

  it('fires state-change rules and time-based rules from the scheduler: offline for more than 2 minutes, expiry in 30 and 15 days', async () => {
    const state = await createRule({ name: 'suspended', scope: { kind: 'sim', iccid: iccidFor(9) }, trigger: { type: 'state_change', to: ['suspended'] }, actions: [{ type: 'webhook' }] });
    const offline = (await t.api('POST', '/api/v1/rule-templates/offline-2-minutes/rules', { scope: { kind: 'sim', iccid: iccidFor(9) } })).json<{ id: string }>().id;
    const expiry = (await t.api('POST', '/api/v1/rule-templates/expiry-30-15-days/rules', { scope: { kind: 'sim', iccid: iccidFor(9) } })).json<{ id: string }>().id;
    await runtime().reload();
    await engine().accounting(gateway, packet(9, 's9', { status: 'start' }));
    await engine().accounting(gateway, packet(9, 's9', { status: 'stop' }));
    await runtime().runScheduled();
    expect(await firings(offline)).toEqual([]);
    t.clock.advance(3 * 60_000);
    await runtime().runScheduled();
    await runtime().runScheduled();
    expect((await firings(offline)).map((f) => f.inputs.offlineMinutes)).toEqual([3]);

    await sql`UPDATE sims SET expires_at = ${new Date(t.clock.now().getTime() + 20 * 86_400_000)} WHERE iccid = ${iccidFor(9)}`.execute(db());
    await runtime().runScheduled();
    t.clock.advance(6 * 86_400_000);
    await runtime().runScheduled();
    await runtime().runScheduled();
    expect((await firings(expiry)).map((f) => f.stage)).toEqual(['30', '15']);

    await t.api('POST', `/api/v1/sims/${iccidFor(9)}/state`, { state: 'suspended' });
    await waitFor(async () => (await firings(state)).length > 0);
    expect((await firings(state))[0]).toMatchObject({ stage: 'active>suspended', inputs: { from: 'active', to: 'suspended' } });
  });

  it('backtests a saved or unsaved rule over recorded usage without recording or doing anything', async () => {
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM rule_firings`.execute(db());
    const res = await t.api('POST', '/api/v1/rules/backtest?days=30', {
      name: 'what if 1 MB',
      scope: { kind: 'account', id: t.operatorAccountId },
      trigger: { type: 'usage', period: 'cycle', megabytes: [1] },
      actions: [{ type: 'suspend' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ firings: { iccid: string; stage: string; period: string; actions: { status: string }[] }[]; sims: number }>();
    expect(body.sims).toBe(12);
    const iccids = body.firings.map((f) => f.iccid);
    expect(iccids).toContain(iccidFor(1));
    expect(iccids).toContain(iccidFor(3));
    expect(iccids).toContain(iccidFor(8));
    expect(body.firings.every((f) => f.actions[0]!.status === 'simulated')).toBe(true);
    expect((await stateOf(iccidFor(1))).state).toBe('active');
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM rule_firings`.execute(db());
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);

    const saved = (await t.api('GET', '/api/v1/rules?limit=100')).json<{ items: { id: string; name: string }[] }>().items.find((r) => r.name === 'staged')!;
    const replay = (await t.api('POST', `/api/v1/rules/${saved.id}/backtest?days=30`)).json<{ firings: { stage: string; period: string }[] }>();
    expect(replay.firings.map((f) => [f.stage, f.period])).toEqual([
      ['70', '2026-01'],
      ['90', '2026-01'],
      ['100', '2026-01'],
      ['70', '2026-02'],
    ]);
    const sessions = (await t.api('POST', '/api/v1/rules/backtest?days=30', { name: 'starts', scope: { kind: 'sim', iccid: iccidFor(3) }, trigger: { type: 'session', event: 'start' }, actions: [{ type: 'webhook' }], repeat: 'every_time', cooldownMinutes: 10 })).json<{ firings: unknown[] }>();
    expect(sessions.firings.length).toBe(2);
  });

  it('validates rules with clear errors and lists the templates', async () => {
    const bad = await t.api('POST', '/api/v1/rules', { name: 'x', scope: { kind: 'account', id: t.operatorAccountId }, trigger: { type: 'usage', of: 'group', percents: [50] }, actions: [{ type: 'suspend' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string; detail: string }>()).toMatchObject({ code: 'invalid_rule' });
    expect(bad.json<{ detail: string }>().detail).toContain('use megabytes for a group');
    const shape = await t.api('POST', '/api/v1/rules', { name: 'x', scope: { kind: 'planet', id: 'p' }, trigger: { type: 'usage' }, actions: [] });
    expect(shape.statusCode).toBe(400);
    expect(shape.json<{ code: string }>().code).toBe('validation_failed');
    const templates = (await t.api('GET', '/api/v1/rule-templates')).json<{ items: { id: string }[] }>().items.map((x) => x.id);
    expect(templates).toEqual(expect.arrayContaining(['usage-80-100-mb', 'usage-staged-70-90-100', 'expiry-30-15-days', 'test-period-ending', 'offline-2-minutes', 'daily-traffic-anomaly-150-mb']));
    const id = (await t.api('GET', '/api/v1/rules?limit=1')).json<{ items: { id: string }[] }>().items[0]!.id;
    expect((await t.api('POST', `/api/v1/rules/${id}/disable`)).json<{ enabled: boolean }>().enabled).toBe(false);
    expect((await t.api('GET', '/api/v1/rules?enabled=false')).json<{ items: { id: string }[] }>().items.map((r) => r.id)).toEqual([id]);
    expect((await t.api('POST', `/api/v1/rules/${id}/enable`)).json<{ enabled: boolean }>().enabled).toBe(true);
  });

  it('fires policy-violation rules on alerts of their type', async () => {
    const ruleId = await createRule({ name: 'imei mismatch', scope: { kind: 'sim', iccid: iccidFor(11) }, trigger: { type: 'policy_violation', alertType: 'imei_mismatch' }, actions: [{ type: 'webhook' }] });
    const raise = (type: string) =>
      t.platform.services.alerts.raise(db(), [{ accountId: t.operatorAccountId, type, severity: 'critical', subject: { kind: 'sim', id: iccidFor(11) }, message: `${type} on SIM 11` }], t.clock.now());
    await raise('out_of_region');
    await raise('imei_mismatch');
    expect((await firings(ruleId)).map((f) => f.inputs)).toEqual([{ alertType: 'imei_mismatch', message: 'imei_mismatch on SIM 11' }]);
  });

  it('acts on a firing left pending by a stop at the next start', async () => {
    const ruleId = await createRule({ name: 'left pending', scope: { kind: 'sim', iccid: iccidFor(10) }, trigger: { type: 'session', event: 'start' }, actions: [{ type: 'suspend' }] });
    await sql`
      INSERT INTO rule_firings (rule_id, account_id, subject_kind, subject_id, subject_account_id, iccid, period, stage, inputs, status, actions, fired_at)
      VALUES (${ruleId}, ${t.operatorAccountId}, 'sim', ${iccidFor(10)}, ${t.operatorAccountId}, ${iccidFor(10)}, 'p', 'start', '{}', 'pending',
              '[{"type":"suspend","status":"pending","detail":null}]', ${t.clock.now()})`.execute(db());
    await t.restart();
    const [f] = await firings(ruleId);
    expect(f).toMatchObject({ status: 'done', actions: [{ type: 'suspend', status: 'ok' }] });
    expect((await stateOf(iccidFor(10))).state).toBe('suspended');
  });

  it("keeps rules and firings within the tenant: a reseller cannot target another reseller's SIMs nor see its rules", async () => {
    const a = await createTenant(t, 'reseller', 'Rules A');
    const b = await createTenant(t, 'reseller', 'Rules B');
    await t.api('POST', `/api/v1/sims/imports?accountId=${b.accountId}`, simCsv(40, 1));
    await t.drainJobs();
    await t.api('POST', `/api/v1/sims/${iccidFor(40)}/state`, { state: 'active' });
    const body = (scope: Record<string, unknown>) => ({ name: 'n', scope, trigger: { type: 'session', event: 'start' }, actions: [{ type: 'suspend' }] });
    const other = await t.api('POST', '/api/v1/rules', body({ kind: 'sim', iccid: iccidFor(40) }), { key: a.key });
    expect(other.statusCode).toBe(404);
    expect(other.json<{ code: string }>().code).toBe('sim_not_found');
    expect((await t.api('POST', '/api/v1/rules', body({ kind: 'account', id: b.accountId }), { key: a.key })).statusCode).toBe(404);
    expect((await t.api('POST', '/api/v1/rules', { ...body({ kind: 'account', id: a.accountId }), accountId: b.accountId }, { key: a.key })).statusCode).toBe(404);
    const bRule = await createRule(body({ kind: 'account', id: b.accountId }), b.key);
    const aRule = await createRule(body({ kind: 'account', id: a.accountId }), a.key);
    await engine().accounting(gateway, packet(40, 'tenant', { status: 'start' }));
    expect((await firings(bRule, b.key)).map((f) => f.iccid)).toEqual([iccidFor(40)]);
    expect(await firings(aRule, a.key)).toEqual([]);
    expect(await firings(bRule, a.key)).toEqual([]);
    expect((await t.api('GET', `/api/v1/rules/${bRule}`, undefined, { key: a.key })).statusCode).toBe(404);
    expect((await t.api('POST', `/api/v1/rules/${bRule}/disable`, undefined, { key: a.key })).statusCode).toBe(404);
    expect((await t.api('POST', `/api/v1/rules/${bRule}/backtest?days=3`, undefined, { key: a.key })).statusCode).toBe(404);
    expect((await t.api('GET', '/api/v1/rules?limit=1000', undefined, { key: a.key })).json<{ items: { id: string }[] }>().items.map((r) => r.id)).toEqual([aRule]);
    expect((await stateOf(iccidFor(40))).state).toBe('suspended');
  });
});
