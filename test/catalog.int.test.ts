import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadRatingCatalog } from '../src/modules/rating/catalog.repository.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const MB = 1024 * 1024;
const GB = 1024 * MB;

interface Tenant {
  accountId: string;
  key: string;
}

const plan = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Plan ${id}`,
  monthlyFee: '19.15',
  includedBytes: 100 * MB,
  coverageZoneIds: ['EU'],
  ...extra,
});

// SIM serials: operator 1-2, reseller A's enterprise 3-5, reseller B 6-7.
const OPERATOR_SIM = iccidFor(1);
const A_SIMS = [iccidFor(3), iccidFor(4), iccidFor(5)];
const B_SIM = iccidFor(6);

describe.each(testDialects())('rating catalogue on %s', (dialect) => {
  let t: TestPlatform;
  let resellerA: Tenant;
  let resellerB: Tenant;
  let enterpriseA: Tenant;
  let catalogChanges = 0;
  const simsChanged: string[][] = [];

  const as = (who: Tenant | undefined, method: string, url: string, body?: unknown) => t.api(method, url, body, who ? { key: who.key } : {});

  async function importSims(csv: string, accountId?: string): Promise<void> {
    const res = await t.api('POST', `/api/v1/sims/imports${accountId ? `?accountId=${accountId}` : ''}`, csv);
    expect(res.statusCode, res.body).toBe(202);
    await t.drainJobs();
  }

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    resellerA = await createTenant(t, 'reseller', 'Reseller A');
    resellerB = await createTenant(t, 'reseller', 'Reseller B');
    enterpriseA = await createTenant(t, 'enterprise', 'Enterprise A1', { parentId: resellerA.accountId, key: resellerA.key });
    t.platform.services.catalog.onCatalogChanged(() => catalogChanges++);
    t.platform.services.sims.onSimsChanged((iccids) => simsChanged.push(iccids));
    await importSims(simCsv(1, 2));
    await importSims(simCsv(3, 3), enterpriseA.accountId);
    await importSims(simCsv(6, 2), resellerB.accountId);
  });
  afterAll(() => t?.close());

  describe('zones', () => {
    it('creates, reads, lists and changes zones; every change is announced', async () => {
      const before = catalogChanges;
      const res = await t.api('POST', '/api/v1/zones', { id: 'EU', name: 'Europe', countries: ['DE', 'FR'], networks: ['23415'] });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({ id: 'EU', name: 'Europe', countries: ['DE', 'FR'], networks: ['23415'] });
      expect((await t.api('POST', '/api/v1/zones', { id: 'CN', name: 'Mainland China', countries: ['CN'] })).statusCode).toBe(201);
      expect((await t.api('POST', '/api/v1/zones', { id: 'US', name: 'United States', countries: ['US'] })).statusCode).toBe(201);

      const patched = await t.api('PATCH', '/api/v1/zones/EU', { countries: ['DE', 'FR', 'IT'] });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toEqual({ id: 'EU', name: 'Europe', countries: ['DE', 'FR', 'IT'], networks: ['23415'] });
      expect(catalogChanges).toBe(before + 4);

      expect((await t.api('GET', '/api/v1/zones/EU')).json().countries).toEqual(['DE', 'FR', 'IT']);
      const list = await t.api('GET', '/api/v1/zones?limit=2');
      expect(list.json().items.map((z: { id: string }) => z.id)).toEqual(['CN', 'EU']);
      expect(list.json().nextCursor).toBe('EU');
      expect((await t.api('GET', '/api/v1/zones?cursor=EU')).json().items.map((z: { id: string }) => z.id)).toEqual(['US']);
    });

    it('names every problem of an invalid zone and what is allowed', async () => {
      const res = await t.api('POST', '/api/v1/zones', { id: 'bad zone', name: 'Bad', countries: ['de', 'FR', 'FR'], networks: ['2620'] });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.code).toBe('invalid_zone');
      expect(body.detail).toContain("must be 1-32 letters, digits, '_', '.' or '-'");
      expect(body.detail).toContain('"de" is not an ISO 3166-1 alpha-2 country code such as DE');
      expect(body.detail).toContain('country FR is listed twice');
      expect(body.detail).toContain('network "2620" must be MCC+MNC, 5 or 6 digits');
      expect(body.problems).toHaveLength(4);

      const empty = await t.api('POST', '/api/v1/zones', { id: 'NONE', name: 'Nothing' });
      expect(empty.json()).toMatchObject({ status: 400, code: 'invalid_zone' });
      expect(empty.json().detail).toContain('covers no country and no network');
      const unknown = await t.api('POST', '/api/v1/zones', { id: 'X', name: 'X', countries: ['DE'], colour: 'blue' });
      expect(unknown.json().code).toBe('validation_failed');
      const dup = await t.api('POST', '/api/v1/zones', { id: 'EU', name: 'Again', countries: ['ES'] });
      expect(dup.json()).toMatchObject({ status: 409, code: 'zone_exists' });
      expect((await t.api('PATCH', '/api/v1/zones/EU', { countries: [], networks: [] })).json().code).toBe('invalid_zone');
      expect((await t.api('GET', '/api/v1/zones/NOPE')).json()).toMatchObject({ status: 404, code: 'zone_not_found' });
    });

    it('only operator admins change zones; every account reads them', async () => {
      expect((await as(resellerA, 'POST', '/api/v1/zones', { id: 'R', name: 'R', countries: ['DE'] })).statusCode).toBe(403);
      expect((await as(resellerA, 'PATCH', '/api/v1/zones/EU', { name: 'x' })).statusCode).toBe(403);
      expect((await as(enterpriseA, 'DELETE', '/api/v1/zones/US')).statusCode).toBe(403);
      expect((await as(enterpriseA, 'GET', '/api/v1/zones/EU')).statusCode).toBe(200);
      expect((await as(resellerB, 'GET', '/api/v1/zones')).json().items).toHaveLength(3);
    });
  });

  describe('plans', () => {
    it('creates a plan with exact decimal money and the default cut-off threshold', async () => {
      const before = catalogChanges;
      const res = await t.api('POST', '/api/v1/plans', plan('EU-100MB', { smsPrice: '0.12', overage: { pricePerMb: '0.000123', cap: '100' } }));
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({ id: 'EU-100MB', accountId: t.operatorAccountId });
      expect(body.versions).toHaveLength(1);
      expect(body.inForce).toEqual(body.versions[0]);
      expect(body.inForce).toEqual({
        version: 1,
        effectiveFrom: t.clock.now().toISOString(),
        name: 'Plan EU-100MB',
        currency: 'CNY',
        monthlyFee: '19.15',
        includedBytes: 100 * MB,
        includedSms: 0,
        smsPrice: '0.12',
        coverageZoneIds: ['EU'],
        overage: { pricePerMb: '0.000123', cap: '100.00' },
        cutoffBytes: 3 * GB,
        sharing: 'individual',
        termMonths: null,
        testAllowanceBytes: 0,
        ratingIncrementBytes: 1024,
        outOfCoverage: { kind: 'block' },
        notifyPercents: [70, 90, 100],
        wholesalePlanId: null,
      });
      expect(catalogChanges).toBe(before + 1);
      // Stored in micros, exactly.
      const { plans } = await loadRatingCatalog(t.platform.services.db);
      expect(plans.find((p) => p.id === 'EU-100MB')).toMatchObject({ monthlyFeeMicros: 19_150_000, smsPriceMicros: 120_000, overage: { pricePerMbMicros: 123, capMicros: 100_000_000 } });
    });

    it('names every problem of an invalid plan, and refuses money it would have to round', async () => {
      const res = await t.api('POST', '/api/v1/plans', plan('BAD', { coverageZoneIds: ['EU', 'MARS'], cutoffBytes: 50 * MB, termMonths: null, outOfCoverage: { kind: 'rate', pricePerMb: '1', zoneRates: [{ zoneId: 'EU', pricePerMb: '2' }] } }));
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_rate_plan');
      expect(res.json().detail).toContain('coverage zone MARS does not exist');
      expect(res.json().detail).toContain('cutoffBytes (52428800) must be above includedBytes (104857600)');
      expect(res.json().detail).toContain('roaming zone EU is a coverage zone');
      expect(res.json().problems).toHaveLength(3);

      const rounded = await t.api('POST', '/api/v1/plans', plan('BAD', { monthlyFee: '19.1500001' }));
      expect(rounded.json()).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(rounded.json().errors).toEqual([expect.objectContaining({ path: 'body.monthlyFee', message: expect.stringContaining('at most 6 decimal places') })]);
      const float = await t.api('POST', '/api/v1/plans', plan('BAD', { monthlyFee: 19.15 }));
      expect(float.json().code).toBe('validation_failed');
      const currency = await t.api('POST', '/api/v1/plans', plan('BAD', { currency: 'XXX' }));
      expect(currency.json().detail).toContain('currency XXX is not supported; supported: CNY');
      expect((await t.api('GET', '/api/v1/plans/BAD')).statusCode).toBe(404);
      expect((await t.api('POST', '/api/v1/plans', plan('EU-100MB'))).json()).toMatchObject({ status: 409, code: 'plan_exists' });
    });

    it('changes a plan from a date: the new version is in force from then on, the old one until then', async () => {
      const now = t.clock.now().getTime();
      const from = new Date(now + 10 * 86_400_000).toISOString();
      const res = await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: from, monthlyFee: '17.5', includedBytes: 500 * MB });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      expect(body.inForce).toMatchObject({ version: 1, monthlyFee: '19.15' });
      // Terms not given are kept; a new size takes the default cut-off of that size.
      expect(body.versions[1]).toMatchObject({ version: 2, effectiveFrom: from, monthlyFee: '17.50', includedBytes: 500 * MB, cutoffBytes: 4 * GB, smsPrice: '0.12', overage: { pricePerMb: '0.000123', cap: '100.00' } });

      t.clock.advance(10 * 86_400_000);
      expect((await t.api('GET', '/api/v1/plans/EU-100MB')).json().inForce).toMatchObject({ version: 2, monthlyFee: '17.50' });

      const past = await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: new Date(now).toISOString(), monthlyFee: '1' });
      expect(past.json()).toMatchObject({ status: 400, code: 'invalid_plan_change' });
      expect(past.json().detail).toContain('is in the past');
      const sharing = await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: new Date(t.clock.now().getTime() + 1000).toISOString(), sharing: 'pooled' });
      expect(sharing.json().detail).toContain('sharing cannot change in a new version');
      const noZone = await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: new Date(t.clock.now().getTime() + 1000).toISOString(), coverageZoneIds: ['MARS'] });
      expect(noZone.json()).toMatchObject({ code: 'invalid_rate_plan' });
      expect((await t.api('POST', '/api/v1/plans/NOPE/versions', { effectiveFrom: from })).json().code).toBe('plan_not_found');
      // A time with an offset is read as that instant.
      const offset = await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: '2027-01-01T00:00:00+08:00', monthlyFee: '17.4' });
      expect(offset.statusCode, offset.body).toBe(201);
      expect(offset.json().versions[2]).toMatchObject({ version: 3, effectiveFrom: '2026-12-31T16:00:00.000Z', monthlyFee: '17.40' });
      expect((await t.api('POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: '2027-02-01', monthlyFee: '1' })).json().code).toBe('validation_failed');

    });

    it('refuses to delete a zone a plan version names, and names the plans', async () => {
      const res = await t.api('DELETE', '/api/v1/zones/EU');
      expect(res.json()).toMatchObject({ status: 409, code: 'zone_in_use', planIds: ['EU-100MB'] });
      expect(res.json().detail).toContain('EU-100MB');
      const roaming = await t.api('POST', '/api/v1/plans', plan('CN-ROAM', { coverageZoneIds: ['CN'], outOfCoverage: { kind: 'rate', pricePerMb: '5', zoneRates: [{ zoneId: 'US', pricePerMb: '8.5' }] } }));
      expect(roaming.statusCode, roaming.body).toBe(201);
      expect((await t.api('DELETE', '/api/v1/zones/US')).json()).toMatchObject({ code: 'zone_in_use', planIds: ['CN-ROAM'] });
      expect((await t.api('POST', '/api/v1/zones', { id: 'TMP', name: 'Temporary', countries: ['JP'] })).statusCode).toBe(201);
      expect((await t.api('DELETE', '/api/v1/zones/TMP')).statusCode).toBe(204);
      expect((await t.api('GET', '/api/v1/zones/TMP')).statusCode).toBe(404);
    });
  });

  describe('tenancy', () => {
    it('a reseller creates its own plans; it sees them and the operator plans, never another reseller\'s', async () => {
      const a = await as(resellerA, 'POST', '/api/v1/plans', plan('A-RETAIL', { monthlyFee: '25' }));
      expect(a.statusCode, a.body).toBe(201);
      expect(a.json().accountId).toBe(resellerA.accountId);
      expect((await as(resellerB, 'POST', '/api/v1/plans', plan('B-RETAIL'))).statusCode).toBe(201);

      const idsFor = async (who?: Tenant) => ((await as(who, 'GET', '/api/v1/plans')).json().items as { id: string }[]).map((p) => p.id);
      expect(await idsFor(resellerA)).toEqual(['A-RETAIL', 'CN-ROAM', 'EU-100MB']);
      expect(await idsFor(resellerB)).toEqual(['B-RETAIL', 'CN-ROAM', 'EU-100MB']);
      expect(await idsFor(enterpriseA)).toEqual(['A-RETAIL', 'CN-ROAM', 'EU-100MB']);
      expect(await idsFor(undefined)).toEqual(['A-RETAIL', 'B-RETAIL', 'CN-ROAM', 'EU-100MB']);
      expect((await as(resellerB, 'GET', '/api/v1/plans/A-RETAIL')).json()).toMatchObject({ status: 404, code: 'plan_not_found' });
      expect((await as(resellerB, 'POST', '/api/v1/plans/A-RETAIL/versions', { effectiveFrom: new Date(t.clock.now().getTime() + 1000).toISOString() })).statusCode).toBe(404);
      expect((await as(enterpriseA, 'GET', '/api/v1/plans/A-RETAIL')).statusCode).toBe(200);
      expect((await as(enterpriseA, 'GET', `/api/v1/plans?accountId=${resellerB.accountId}`)).json().items).toEqual([]);
    });

    it('only the owner changes a plan; enterprises and read-only keys create none', async () => {
      const later = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
      const wholesale = await as(resellerA, 'POST', '/api/v1/plans/EU-100MB/versions', { effectiveFrom: later, monthlyFee: '1' });
      expect(wholesale.json()).toMatchObject({ status: 403, code: 'forbidden' });
      expect(wholesale.json().detail).toContain(`belongs to account ${t.operatorAccountId}`);
      const own = await as(resellerA, 'POST', '/api/v1/plans/A-RETAIL/versions', { effectiveFrom: later, monthlyFee: '26' });
      expect(own.statusCode, own.body).toBe(201);
      expect((await as(enterpriseA, 'POST', '/api/v1/plans', plan('E-OWN'))).json()).toMatchObject({ status: 403, code: 'forbidden' });
      const ro = (await t.api('POST', '/api/v1/api-keys', { name: 'ro', role: 'read_only' })).json().secret as string;
      expect((await t.api('POST', '/api/v1/plans', plan('RO'), { key: ro })).statusCode).toBe(403);
      expect((await t.api('PUT', `/api/v1/sims/${OPERATOR_SIM}/plan`, { planId: 'EU-100MB' }, { key: ro })).statusCode).toBe(403);
    });

    it('a SIM can only be put on a plan of its account or an account above it', async () => {
      // Reseller B cannot see A's plan at all.
      expect((await as(resellerB, 'PUT', `/api/v1/sims/${B_SIM}/plan`, { planId: 'A-RETAIL' })).json()).toMatchObject({ status: 404, code: 'plan_not_found' });
      // The operator sees it, but B's SIM is not below A.
      const wrong = await t.api('PUT', `/api/v1/sims/${B_SIM}/plan`, { planId: 'A-RETAIL' });
      expect(wrong.json()).toMatchObject({ status: 400, code: 'plan_not_available' });
      expect(wrong.json().detail).toContain(`belongs to account ${resellerA.accountId}`);
      // Nor can reseller B reach A's SIMs.
      expect((await as(resellerB, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'B-RETAIL' })).json().code).toBe('sim_not_found');
      // Enterprise admins see their plan but do not choose it.
      expect((await as(enterpriseA, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'A-RETAIL' })).statusCode).toBe(403);
      expect((await t.api('GET', `/api/v1/sims/${B_SIM}`)).json().planId).toBeNull();
    });
  });

  describe('plan assignment', () => {
    it('assigns a plan, records the change and refreshes the SIM in memory; null takes it off', async () => {
      simsChanged.length = 0;
      const res = await as(resellerA, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'A-RETAIL', reason: 'contract 42' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().planId).toBe('A-RETAIL');
      expect(simsChanged).toEqual([[A_SIMS[0]]]);
      expect((await as(enterpriseA, 'GET', `/api/v1/sims/${A_SIMS[0]}`)).json().planId).toBe('A-RETAIL');

      const again = await as(resellerA, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'A-RETAIL' });
      expect(again.statusCode).toBe(200);
      expect(simsChanged).toHaveLength(1);

      const wholesale = await as(resellerA, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'EU-100MB' });
      expect(wholesale.json().planId).toBe('EU-100MB');
      const off = await as(resellerA, 'PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: null });
      expect(off.json().planId).toBeNull();

      const changes = (await t.api('GET', `/api/v1/sims/${A_SIMS[0]}/changes?field=plan`)).json().items;
      expect(changes.map((c: { oldValue: string | null; newValue: string | null }) => [c.oldValue, c.newValue])).toEqual([
        ['EU-100MB', null],
        ['A-RETAIL', 'EU-100MB'],
        [null, 'A-RETAIL'],
      ]);
      expect(changes[2]).toMatchObject({ field: 'plan', status: 'completed', source: 'api', reason: 'contract 42' });
    });

    it('assigns a plan to many SIMs in a bulk job and filters the SIM list by plan', async () => {
      const res = await as(resellerA, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: A_SIMS }, change: { update: { planId: 'A-RETAIL' } }, reason: 'retail launch' });
      expect(res.statusCode, res.body).toBe(202);
      await t.drainJobs();
      const job = (await t.api('GET', `/api/v1/jobs/${res.json().id}`)).json();
      expect(job).toMatchObject({ status: 'completed' });
      const list = await as(resellerA, 'GET', '/api/v1/sims?planId=A-RETAIL');
      expect(list.json().items.map((s: { iccid: string }) => s.iccid)).toEqual(A_SIMS);
      const records = (await t.api('GET', `/api/v1/changes?field=plan&jobId=${res.json().id}`)).json().items;
      expect(records).toHaveLength(3);
      expect(records.every((r: { newValue: string; reason: string }) => r.newValue === 'A-RETAIL' && r.reason === 'retail launch')).toBe(true);
      expect((await t.api('GET', '/api/v1/sims?planId=NOPE')).json().items).toEqual([]);

      const bad = await as(resellerB, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: [B_SIM] }, change: { update: { planId: 'A-RETAIL' } } });
      expect(bad.json()).toMatchObject({ status: 404, code: 'plan_not_found' });
    });

    it('the usage engine rates with the plan and the version in force as soon as they are committed', async () => {
      const { index, usage } = t.platform.network;
      await vi.waitFor(() => expect(index.getByIccid(A_SIMS[1]!)?.planId).toBe('A-RETAIL'));
      const sim = index.getByIccid(A_SIMS[1]!)!;
      await vi.waitFor(() => expect(usage.rating.planOf(sim, t.clock.now())).toMatchObject({ id: 'A-RETAIL', monthlyFeeMicros: 25_000_000 }));
      // Version 2 (fee 26) starts in an hour; version 3 in two.
      const from = new Date(t.clock.now().getTime() + 2 * 3_600_000);
      const change = await as(resellerA, 'POST', '/api/v1/plans/A-RETAIL/versions', { effectiveFrom: from.toISOString(), includedBytes: 2 * GB });
      expect(change.statusCode, change.body).toBe(201);
      await vi.waitFor(() => expect(usage.rating.planOf(sim, from)).toMatchObject({ version: 3, includedBytes: 2 * GB }));
      expect(usage.rating.planOf(sim, t.clock.now())).toMatchObject({ version: 1 });
      expect(usage.rating.planOf(sim, new Date(from.getTime() - 1))).toMatchObject({ version: 2, monthlyFeeMicros: 26_000_000 });
    });

    it('a SIM moved to an account its plan is not available to leaves the plan', async () => {
      const res = await t.api('PATCH', `/api/v1/sims/${A_SIMS[0]}`, { accountId: resellerB.accountId });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ accountId: resellerB.accountId, planId: null });
      const [last] = (await t.api('GET', `/api/v1/sims/${A_SIMS[0]}/changes?field=plan&limit=1`)).json().items;
      expect(last).toMatchObject({ oldValue: 'A-RETAIL', newValue: null });
      // A wholesale plan stays with the SIM.
      await t.api('PUT', `/api/v1/sims/${A_SIMS[0]}/plan`, { planId: 'EU-100MB' });
      const back = await t.api('PATCH', `/api/v1/sims/${A_SIMS[0]}`, { accountId: enterpriseA.accountId });
      expect(back.json()).toMatchObject({ accountId: enterpriseA.accountId, planId: 'EU-100MB' });
    });
  });

  describe('sample catalogue', () => {
    it('loads the 7 zones and the plans of the price list once; a second load changes nothing', async () => {
      expect((await as(resellerA, 'POST', '/api/v1/catalog/sample')).statusCode).toBe(403);
      const before = catalogChanges;
      const first = await t.api('POST', '/api/v1/catalog/sample');
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toEqual({ zonesCreated: 7, zonesKept: 0, plansCreated: 70, plansKept: 0, topUpProductsCreated: 4, topUpProductsKept: 0 });
      expect(catalogChanges).toBe(before + 1);
      const second = await t.api('POST', '/api/v1/catalog/sample');
      expect(second.json()).toEqual({ zonesCreated: 0, zonesKept: 7, plansCreated: 0, plansKept: 70, topUpProductsCreated: 0, topUpProductsKept: 4 });
      expect(catalogChanges).toBe(before + 1);

      const z6 = (await t.api('GET', '/api/v1/zones/Z6')).json();
      expect(z6.name).toBe('Zone 6 (Belt and Road)');
      expect(z6.countries).toContain('KZ');
      const p = (await as(enterpriseA, 'GET', '/api/v1/plans/Z1-100MB')).json();
      expect(p.inForce).toMatchObject({ name: 'Zone 1 100MB', monthlyFee: '19.15', includedBytes: 100 * MB, smsPrice: '1.20', coverageZoneIds: ['Z1'], overage: null, cutoffBytes: 3 * GB });
      expect((await t.api('GET', '/api/v1/plans/Z5-1GB')).json().inForce.monthlyFee).toBe('1087.99');
      expect((await t.api('GET', '/api/v1/plans?zoneId=Z3')).json().items).toHaveLength(10);
    });
  });
});
