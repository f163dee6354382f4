import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, msisdnFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

interface Tenant {
  accountId: string;
  key: string;
}

/** Status and problem code of a response, compared as one value so a failure shows both. */
function outcome(res: LightMyRequestResponse): { status: number; code?: string } {
  const body = res.body ? res.json<{ code?: string }>() : {};
  return body.code === undefined ? { status: res.statusCode } : { status: res.statusCode, code: body.code };
}

const ids = (res: LightMyRequestResponse): string[] => (res.json().items as { id: string }[]).map((i) => i.id).sort();
const iccidsOf = (res: LightMyRequestResponse): string[] => (res.json().items as { iccid: string }[]).map((i) => i.iccid).sort();
const sorted = (list: string[]): string[] => [...list].sort();
const serials = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => iccidFor(from + i));

// SIM serials per account: E1 1-4, E2 5-8, E3 9-10, R1a 11, operator 12.
const E1_SIMS = serials(1, 4);
const E2_SIMS = serials(5, 8);
const E3_SIMS = serials(9, 10);
const R1A_SIMS = serials(11, 11);
const OPERATOR_SIMS = serials(12, 12);
const e1Sim = E1_SIMS[0]!;
const e2Sim = E2_SIMS[0]!;
const e3Sim = E3_SIMS[0]!;

describe.each(testDialects())('multi-tenant isolation and roles on %s', (dialect) => {
  let t: TestPlatform;
  let operator: Tenant;
  let r1: Tenant;
  let r1a: Tenant;
  let r2: Tenant;
  let e1: Tenant;
  let e2: Tenant;
  let e3: Tenant;
  let e1ReadOnly: string;
  let e1Operator: string;
  let operatorReadOnly: string;
  let e2GroupId: string;
  let e1GroupId: string;
  let e2UserId: string;
  let e2KeyId: string;
  let operatorImportJobId: string;

  const api = (key: string, method: string, url: string, body?: unknown) => t.api(method, url, body, { key });
  const sim = async (iccid: string) => (await t.api('GET', `/api/v1/sims/${iccid}`)).json();

  async function runJob(key: string, method: string, url: string, body: unknown): Promise<{ id: string; [k: string]: unknown }> {
    const res = await api(key, method, url, body);
    expect(res.statusCode, res.body).toBe(202);
    await t.drainJobs();
    const job = await t.api('GET', `/api/v1/jobs/${res.json().id}`);
    expect(job.json().status).toBe('completed');
    return job.json();
  }

  async function newKey(owner: string, role: string): Promise<{ id: string; secret: string }> {
    const res = await api(owner, 'POST', '/api/v1/api-keys', { name: `${role} key`, role });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    operator = { accountId: t.operatorAccountId, key: t.operatorKey };
    r1 = await createTenant(t, 'reseller', 'R1');
    r2 = await createTenant(t, 'reseller', 'R2');
    // Each reseller builds its own subtree with its own key.
    r1a = await createTenant(t, 'reseller', 'R1a', { parentId: r1.accountId, key: r1.key });
    e1 = await createTenant(t, 'enterprise', 'E1', { parentId: r1.accountId, key: r1.key });
    e2 = await createTenant(t, 'enterprise', 'E2', { parentId: r1.accountId, key: r1.key });
    e3 = await createTenant(t, 'enterprise', 'E3', { parentId: r2.accountId, key: r2.key });

    // E1's SIMs are imported straight into E1; the rest land in the operator's account and are handed out.
    await runJob(operator.key, 'POST', `/api/v1/sims/imports?accountId=${e1.accountId}`, simCsv(1, 4));
    operatorImportJobId = (await runJob(operator.key, 'POST', '/api/v1/sims/imports', simCsv(5, 8))).id;
    for (const iccid of E2_SIMS) {
      const moved = await t.api('PATCH', `/api/v1/sims/${iccid}`, { accountId: e2.accountId });
      expect(moved.statusCode, moved.body).toBe(200);
    }
    const toE3 = await runJob(operator.key, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: E3_SIMS }, change: { update: { accountId: e3.accountId } } });
    expect(toE3.summary).toMatchObject({ succeeded: 2, failed: 0 });
    expect((await t.api('PATCH', `/api/v1/sims/${R1A_SIMS[0]}`, { accountId: r1a.accountId })).statusCode).toBe(200);

    const g1 = await api(e1.key, 'POST', '/api/v1/groups', { name: 'meters' });
    const g2 = await api(e2.key, 'POST', '/api/v1/groups', { name: 'trackers' });
    expect([g1.statusCode, g2.statusCode]).toEqual([201, 201]);
    e1GroupId = g1.json().id;
    e2GroupId = g2.json().id;
    expect((await api(e2.key, 'PATCH', `/api/v1/sims/${e2Sim}`, { groupId: e2GroupId, labels: ['e2-original'] })).statusCode).toBe(200);

    // The only user created here (password hashing is slow): an operator of E2, made by the reseller.
    const user = await api(r1.key, 'POST', '/api/v1/users', {
      accountId: e2.accountId,
      email: 'ops@e2.example',
      name: 'E2 ops',
      role: 'enterprise_operator',
      password: 'e2 operator password',
    });
    expect(user.statusCode, user.body).toBe(201);
    e2UserId = user.json().id;
    e2KeyId = (await newKey(e2.key, 'read_only')).id;

    e1ReadOnly = (await newKey(e1.key, 'read_only')).secret;
    e1Operator = (await newKey(e1.key, 'enterprise_operator')).secret;
    operatorReadOnly = (await newKey(operator.key, 'read_only')).secret;
  });
  afterAll(() => t?.close());

  describe('accounts', () => {
    it('each account sees itself and its descendants, never a sibling or an ancestor', async () => {
      const all = [operator, r1, r1a, r2, e1, e2, e3].map((a) => a.accountId);
      expect(ids(await api(operator.key, 'GET', '/api/v1/accounts'))).toEqual(sorted(all));
      expect(ids(await api(r1.key, 'GET', '/api/v1/accounts'))).toEqual(sorted([r1.accountId, r1a.accountId, e1.accountId, e2.accountId]));
      expect(ids(await api(r2.key, 'GET', '/api/v1/accounts'))).toEqual(sorted([r2.accountId, e3.accountId]));
      expect(ids(await api(r1a.key, 'GET', '/api/v1/accounts'))).toEqual([r1a.accountId]);
      expect(ids(await api(e1.key, 'GET', '/api/v1/accounts'))).toEqual([e1.accountId]);
      // Filtering by a foreign parent does not widen the scope.
      expect(ids(await api(r1.key, 'GET', `/api/v1/accounts?parentId=${r2.accountId}`))).toEqual([]);
      expect(ids(await api(e1.key, 'GET', `/api/v1/accounts?parentId=${r1.accountId}`))).toEqual([e1.accountId]);

      for (const [who, target] of [
        [r1, r2],
        [r1, e3],
        [r1, operator],
        [r1a, r1],
        [r1a, e1],
        [e1, e2],
        [e1, r1],
        [e3, e1],
        [r2, e2],
      ] as const) {
        expect(outcome(await api(who.key, 'GET', `/api/v1/accounts/${target.accountId}`)), `${who.accountId} -> ${target.accountId}`).toEqual({
          status: 404,
          code: 'account_not_found',
        });
      }
      expect((await api(r1.key, 'GET', `/api/v1/accounts/${e2.accountId}`)).json()).toMatchObject({ id: e2.accountId, parentId: r1.accountId, kind: 'enterprise' });
      expect((await api(r1.key, 'GET', `/api/v1/accounts/${r1a.accountId}`)).json()).toMatchObject({ id: r1a.accountId, parentId: r1.accountId, kind: 'reseller' });
      expect((await api(operator.key, 'GET', `/api/v1/accounts/${e3.accountId}`)).statusCode).toBe(200);
    });

    it('a reseller cannot change, delete or create under a foreign account', async () => {
      expect(outcome(await api(r1.key, 'PATCH', `/api/v1/accounts/${e3.accountId}`, { name: 'taken' }))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(r1.key, 'DELETE', `/api/v1/accounts/${r2.accountId}`))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(r2.key, 'POST', '/api/v1/accounts', { kind: 'enterprise', name: 'intruder', parentId: r1.accountId }))).toEqual({
        status: 404,
        code: 'account_not_found',
      });
      expect(outcome(await api(r1.key, 'POST', '/api/v1/accounts', { kind: 'enterprise', name: 'under E1', parentId: e1.accountId }))).toEqual({
        status: 400,
        code: 'invalid_account_kind',
      });
      expect(outcome(await api(r1.key, 'DELETE', `/api/v1/accounts/${r1.accountId}`))).toEqual({ status: 403, code: 'forbidden' });
      expect((await api(operator.key, 'GET', `/api/v1/accounts/${e3.accountId}`)).json().name).toBe('E3');
      expect(ids(await api(r2.key, 'GET', '/api/v1/accounts'))).toEqual(sorted([r2.accountId, e3.accountId]));

      // A nested reseller manages only its own subtree.
      const child = await api(r1a.key, 'POST', '/api/v1/accounts', { kind: 'enterprise', name: 'R1a customer' });
      expect(child.statusCode).toBe(201);
      expect(child.json().parentId).toBe(r1a.accountId);
      expect((await api(r1.key, 'GET', `/api/v1/accounts/${child.json().id}`)).statusCode).toBe(200);
      expect(outcome(await api(r2.key, 'GET', `/api/v1/accounts/${child.json().id}`))).toEqual({ status: 404, code: 'account_not_found' });
      expect((await api(r1a.key, 'DELETE', `/api/v1/accounts/${child.json().id}`)).statusCode).toBe(204);
    });

    it('enterprise admins cannot create or change accounts', async () => {
      expect(outcome(await api(e1.key, 'POST', '/api/v1/accounts', { kind: 'enterprise', name: 'x' }))).toEqual({ status: 403, code: 'forbidden' });
      expect(outcome(await api(e1.key, 'PATCH', `/api/v1/accounts/${e1.accountId}`, { name: 'renamed' }))).toEqual({ status: 403, code: 'forbidden' });
    });
  });

  describe('users and API keys', () => {
    it('are visible only to their account and its ancestors', async () => {
      const e1Users = await api(e1.key, 'GET', '/api/v1/users');
      expect(e1Users.statusCode).toBe(200);
      expect(ids(e1Users)).toEqual([]);
      expect(ids(await api(e1.key, 'GET', `/api/v1/users?accountId=${e2.accountId}`))).toEqual([]);
      expect(ids(await api(e2.key, 'GET', '/api/v1/users'))).toEqual([e2UserId]);
      expect(ids(await api(r1.key, 'GET', '/api/v1/users'))).toEqual([e2UserId]);
      expect(ids(await api(r2.key, 'GET', '/api/v1/users'))).toEqual([]);
      const everyone = (await api(operator.key, 'GET', '/api/v1/users')).json().items as { id: string; email: string }[];
      expect(everyone.map((u) => u.email).sort()).toEqual(['admin@meridian.local', 'ops@e2.example']);

      for (const key of [e1.key, r2.key, e3.key, r1a.key]) {
        expect(outcome(await api(key, 'GET', `/api/v1/users/${e2UserId}`))).toEqual({ status: 404, code: 'user_not_found' });
        expect(outcome(await api(key, 'PATCH', `/api/v1/users/${e2UserId}`, { name: 'hijacked', disabled: true }))).toEqual({ status: 404, code: 'user_not_found' });
        expect(outcome(await api(key, 'DELETE', `/api/v1/users/${e2UserId}`))).toEqual({ status: 404, code: 'user_not_found' });
      }
      const admin = everyone.find((u) => u.email === 'admin@meridian.local')!;
      expect(outcome(await api(r1.key, 'GET', `/api/v1/users/${admin.id}`))).toEqual({ status: 404, code: 'user_not_found' });
      expect(outcome(await api(r1.key, 'PATCH', `/api/v1/users/${admin.id}`, { disabled: true }))).toEqual({ status: 404, code: 'user_not_found' });
      expect((await api(r1.key, 'GET', `/api/v1/users/${e2UserId}`)).json()).toMatchObject({ name: 'E2 ops', disabled: false });
      expect(outcome(await api(e1.key, 'POST', '/api/v1/users', { accountId: e2.accountId, email: 'x@e1.example', name: 'x', role: 'enterprise_admin', password: 'long enough password' }))).toEqual({
        status: 404,
        code: 'account_not_found',
      });

      const e1Keys = (await api(e1.key, 'GET', '/api/v1/api-keys')).json().items as { id: string; accountId: string }[];
      expect(e1Keys.length).toBeGreaterThanOrEqual(3);
      expect(e1Keys.every((k) => k.accountId === e1.accountId)).toBe(true);
      expect(ids(await api(e1.key, 'GET', `/api/v1/api-keys?accountId=${e2.accountId}`))).toEqual([]);
      const r1Keys = (await api(r1.key, 'GET', '/api/v1/api-keys')).json().items as { accountId: string }[];
      expect(new Set(r1Keys.map((k) => k.accountId))).toEqual(new Set([r1.accountId, r1a.accountId, e1.accountId, e2.accountId]));
      const r2Keys = (await api(r2.key, 'GET', '/api/v1/api-keys')).json().items as { accountId: string }[];
      expect(new Set(r2Keys.map((k) => k.accountId))).toEqual(new Set([r2.accountId, e3.accountId]));
      expect(JSON.stringify(r1Keys)).not.toContain('"secret"');
    });

    it('cannot be read, revoked or created across tenants', async () => {
      for (const key of [e1.key, r2.key, e3.key]) {
        expect(outcome(await api(key, 'GET', `/api/v1/api-keys/${e2KeyId}`))).toEqual({ status: 404, code: 'api_key_not_found' });
        expect(outcome(await api(key, 'POST', `/api/v1/api-keys/${e2KeyId}/revoke`))).toEqual({ status: 404, code: 'api_key_not_found' });
        expect(outcome(await api(key, 'DELETE', `/api/v1/api-keys/${e2KeyId}`))).toEqual({ status: 404, code: 'api_key_not_found' });
      }
      expect((await api(r1.key, 'GET', `/api/v1/api-keys/${e2KeyId}`)).json().revokedAt).toBeNull();
      // A descendant cannot see or revoke its ancestor's keys.
      const operatorKeys = (await api(operator.key, 'GET', `/api/v1/api-keys?accountId=${operator.accountId}`)).json().items as { id: string }[];
      expect(operatorKeys.length).toBeGreaterThan(0);
      for (const k of operatorKeys) {
        expect(outcome(await api(r1.key, 'POST', `/api/v1/api-keys/${k.id}/revoke`))).toEqual({ status: 404, code: 'api_key_not_found' });
      }
      expect((await api(operator.key, 'GET', '/api/v1/auth/me')).statusCode).toBe(200);
      expect(outcome(await api(e1.key, 'POST', '/api/v1/api-keys', { accountId: e2.accountId, name: 'foreign' }))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(r1.key, 'POST', '/api/v1/api-keys', { accountId: e3.accountId, name: 'foreign' }))).toEqual({ status: 404, code: 'account_not_found' });
    });

    it('refuse roles the account kind may not hold (invalid_role) and create nothing', async () => {
      const keyCases: [string, string, string][] = [
        [e1.key, e1.accountId, 'operator_admin'],
        [e1.key, e1.accountId, 'reseller_admin'],
        [r1.key, r1.accountId, 'enterprise_admin'],
        [r1.key, e1.accountId, 'reseller_admin'],
        [operator.key, operator.accountId, 'enterprise_operator'],
        [operator.key, r2.accountId, 'operator_admin'],
      ];
      for (const [key, accountId, role] of keyCases) {
        const res = await api(key, 'POST', '/api/v1/api-keys', { accountId, name: 'escalation', role });
        expect(outcome(res), `${role} in ${accountId}`).toEqual({ status: 400, code: 'invalid_role' });
      }
      const keyNames = (await api(operator.key, 'GET', '/api/v1/api-keys?limit=1000')).json().items.map((k: { name: string }) => k.name);
      expect(keyNames).not.toContain('escalation');

      const userCases: [string, string, string][] = [
        [e1.key, e1.accountId, 'operator_admin'],
        [r1.key, e2.accountId, 'reseller_admin'],
        [r1.key, r1a.accountId, 'enterprise_operator'],
        [operator.key, e3.accountId, 'operator_admin'],
      ];
      for (const [key, accountId, role] of userCases) {
        const res = await api(key, 'POST', '/api/v1/users', { accountId, email: `${role}@escalation.example`, name: 'x', role, password: 'long enough password' });
        expect(outcome(res), `${role} in ${accountId}`).toEqual({ status: 400, code: 'invalid_role' });
      }
      expect(outcome(await api(r1.key, 'PATCH', `/api/v1/users/${e2UserId}`, { role: 'reseller_admin' }))).toEqual({ status: 400, code: 'invalid_role' });
      expect(outcome(await api(e2.key, 'PATCH', `/api/v1/users/${e2UserId}`, { role: 'operator_admin' }))).toEqual({ status: 400, code: 'invalid_role' });
      expect((await api(operator.key, 'GET', `/api/v1/users/${e2UserId}`)).json().role).toBe('enterprise_operator');
      const emails = (await api(operator.key, 'GET', '/api/v1/users')).json().items.map((u: { email: string }) => u.email);
      expect(emails.some((e: string) => e.endsWith('@escalation.example'))).toBe(false);
    });
  });

  describe('groups', () => {
    it('are isolated between sibling enterprises', async () => {
      expect(ids(await api(e1.key, 'GET', '/api/v1/groups'))).toEqual([e1GroupId]);
      expect(ids(await api(e1.key, 'GET', `/api/v1/groups?accountId=${e2.accountId}`))).toEqual([]);
      expect(ids(await api(r1.key, 'GET', '/api/v1/groups'))).toEqual(sorted([e1GroupId, e2GroupId]));
      expect(ids(await api(r2.key, 'GET', '/api/v1/groups'))).toEqual([]);
      expect(ids(await api(operator.key, 'GET', '/api/v1/groups'))).toEqual(sorted([e1GroupId, e2GroupId]));

      for (const key of [e1.key, r2.key, e3.key]) {
        expect(outcome(await api(key, 'GET', `/api/v1/groups/${e2GroupId}`))).toEqual({ status: 404, code: 'group_not_found' });
        expect(outcome(await api(key, 'PATCH', `/api/v1/groups/${e2GroupId}`, { name: 'hijacked' }))).toEqual({ status: 404, code: 'group_not_found' });
        expect(outcome(await api(key, 'DELETE', `/api/v1/groups/${e2GroupId}`))).toEqual({ status: 404, code: 'group_not_found' });
      }
      expect((await api(e2.key, 'GET', `/api/v1/groups/${e2GroupId}`)).json().name).toBe('trackers');
      expect((await sim(e2Sim)).groupId).toBe(e2GroupId);
      expect(outcome(await api(e1.key, 'POST', '/api/v1/groups', { accountId: e2.accountId, name: 'planted' }))).toEqual({ status: 404, code: 'account_not_found' });
      // Putting one's own SIM into a foreign group is refused too.
      expect(outcome(await api(e1.key, 'PATCH', `/api/v1/sims/${e1Sim}`, { groupId: e2GroupId }))).toEqual({ status: 404, code: 'group_not_found' });
      // Even a reseller who sees both cannot mix them.
      expect(outcome(await api(r1.key, 'PATCH', `/api/v1/sims/${e1Sim}`, { groupId: e2GroupId }))).toEqual({ status: 400, code: 'group_account_mismatch' });
      expect((await sim(e1Sim)).groupId).toBeNull();
    });
  });

  describe('SIMs', () => {
    it('lists and searches only the SIMs in scope', async () => {
      const list = (key: string, query = '') => api(key, 'GET', `/api/v1/sims?limit=1000${query}`);
      expect(iccidsOf(await list(e1.key))).toEqual(E1_SIMS);
      expect(iccidsOf(await list(e2.key))).toEqual(E2_SIMS);
      expect(iccidsOf(await list(e3.key))).toEqual(E3_SIMS);
      expect(iccidsOf(await list(r1a.key))).toEqual(R1A_SIMS);
      expect(iccidsOf(await list(r1.key))).toEqual(sorted([...E1_SIMS, ...E2_SIMS, ...R1A_SIMS]));
      expect(iccidsOf(await list(r2.key))).toEqual(E3_SIMS);
      expect(iccidsOf(await list(operator.key))).toEqual(sorted([...E1_SIMS, ...E2_SIMS, ...E3_SIMS, ...R1A_SIMS, ...OPERATOR_SIMS]));
      expect(iccidsOf(await list(e1.key, `&accountId=${e2.accountId}`))).toEqual([]);
      expect(iccidsOf(await list(r1.key, `&accountId=${e3.accountId}`))).toEqual([]);
      expect(iccidsOf(await list(e1.key, `&groupId=${e2GroupId}`))).toEqual([]);
      expect(iccidsOf(await list(e1.key, '&label=e2-original'))).toEqual([]);

      // Every way of searching for E2's SIM comes back empty for E1 and for the other reseller, and finds it for E2.
      const searches = [`q=${e2Sim}`, `q=${imsiFor(5)}`, `q=${msisdnFor(5)}`, `iccid=${e2Sim}`, `imsi=${imsiFor(5)}`, `msisdn=${msisdnFor(5)}`];
      for (const query of searches) {
        expect(iccidsOf(await list(e1.key, `&${query}`)), query).toEqual([]);
        expect(iccidsOf(await list(r2.key, `&${query}`)), query).toEqual([]);
        expect(iccidsOf(await list(e2.key, `&${query}`)), query).toEqual([e2Sim]);
        expect(iccidsOf(await list(r1.key, `&${query}`)), query).toEqual([e2Sim]);
      }
    });

    it('answers 404 sim_not_found for a foreign SIM, exactly as for one that does not exist', async () => {
      const unknown = iccidFor(999_999);
      for (const [key, foreign] of [
        [e1.key, e2Sim],
        [e2.key, e1Sim],
        [e1.key, e3Sim],
        [r2.key, e1Sim],
        [r1.key, e3Sim],
        [r1a.key, e1Sim],
        [e3.key, OPERATOR_SIMS[0]!],
      ] as const) {
        for (const iccid of [foreign, unknown]) {
          const expected = { status: 404, code: 'sim_not_found' };
          expect(outcome(await api(key, 'GET', `/api/v1/sims/${iccid}`)), `GET ${iccid}`).toEqual(expected);
          expect(outcome(await api(key, 'PATCH', `/api/v1/sims/${iccid}`, { labels: ['stolen'], deviceName: 'mine' })), `PATCH ${iccid}`).toEqual(expected);
          expect(outcome(await api(key, 'POST', `/api/v1/sims/${iccid}/state`, { state: 'active' })), `state ${iccid}`).toEqual(expected);
          expect(outcome(await api(key, 'GET', `/api/v1/sims/${iccid}/changes`)), `changes ${iccid}`).toEqual(expected);
        }
      }
      // Deleting needs sims:import: resellers without the SIM in scope get 404; an enterprise admin gets 403 for any SIM alike.
      expect(outcome(await api(r2.key, 'DELETE', `/api/v1/sims/${e1Sim}`))).toEqual({ status: 404, code: 'sim_not_found' });
      expect(outcome(await api(r1.key, 'DELETE', `/api/v1/sims/${e3Sim}`))).toEqual({ status: 404, code: 'sim_not_found' });
      expect(outcome(await api(e1.key, 'DELETE', `/api/v1/sims/${e2Sim}`))).toEqual({ status: 403, code: 'forbidden' });
      expect(outcome(await api(e1.key, 'DELETE', `/api/v1/sims/${e1Sim}`))).toEqual({ status: 403, code: 'forbidden' });

      // Nothing happened to the targets: still there, still in inventory, nothing sent to the network.
      for (const iccid of [e1Sim, e2Sim, e3Sim]) {
        const s = await sim(iccid);
        expect(s.state).toBe('inventory');
        expect(s.labels).not.toContain('stolen');
        expect(s.deviceName).toBeNull();
      }
      expect((await sim(e2Sim)).labels).toEqual(['e2-original']);
      expect(t.simulator.log.filter((r) => [e1Sim, e2Sim, e3Sim].includes(r.iccid))).toEqual([]);
    });

    it('lets the owner and its ancestors act on a SIM', async () => {
      const iccid = E2_SIMS[1]!;
      expect((await api(e2.key, 'GET', `/api/v1/sims/${iccid}`)).json().accountId).toBe(e2.accountId);
      expect((await api(r1.key, 'PATCH', `/api/v1/sims/${iccid}`, { addLabels: ['by-reseller'] })).json().labels).toEqual(['by-reseller']);
      const changed = await api(e2.key, 'POST', `/api/v1/sims/${iccid}/state`, { state: 'active' });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json().sim.state).toBe('active');
      expect((await api(operator.key, 'POST', `/api/v1/sims/${iccid}/state`, { state: 'suspended' })).json().sim.state).toBe('suspended');
    });

    it('batch lookups report foreign identifiers as not found', async () => {
      const lookup = async (key: string, by: string, values: string[]) =>
        ((await api(key, 'POST', '/api/v1/sims/lookup', { by, values })).json().items as { value: string; found: boolean; iccid: string | null }[]).map((i) => [
          i.value,
          i.found ? i.iccid : null,
        ]);
      expect(await lookup(e1.key, 'iccid', [e1Sim, e2Sim, e3Sim])).toEqual([
        [e1Sim, e1Sim],
        [e2Sim, null],
        [e3Sim, null],
      ]);
      expect(await lookup(e1.key, 'imsi', [imsiFor(1), imsiFor(5), imsiFor(9)])).toEqual([
        [imsiFor(1), e1Sim],
        [imsiFor(5), null],
        [imsiFor(9), null],
      ]);
      expect(await lookup(e1.key, 'msisdn', [msisdnFor(1), msisdnFor(5)])).toEqual([
        [msisdnFor(1), e1Sim],
        [msisdnFor(5), null],
      ]);
      expect(await lookup(r1.key, 'iccid', [e1Sim, e2Sim, e3Sim])).toEqual([
        [e1Sim, e1Sim],
        [e2Sim, e2Sim],
        [e3Sim, null],
      ]);
      expect(await lookup(r2.key, 'msisdn', [msisdnFor(1), msisdnFor(5), msisdnFor(9)])).toEqual([
        [msisdnFor(1), null],
        [msisdnFor(5), null],
        [msisdnFor(9), e3Sim],
      ]);
      expect(await lookup(operator.key, 'iccid', [e1Sim, e2Sim, e3Sim])).toEqual([
        [e1Sim, e1Sim],
        [e2Sim, e2Sim],
        [e3Sim, e3Sim],
      ]);
    });

    it('change records are visible only with their SIM', async () => {
      const changes = async (key: string, query = '') => (await api(key, 'GET', `/api/v1/changes?limit=1000${query}`)).json().items as { iccid: string; accountId: string }[];
      const e1Changes = await changes(e1.key);
      expect(e1Changes.length).toBeGreaterThan(0);
      expect(new Set(e1Changes.map((c) => c.accountId))).toEqual(new Set([e1.accountId]));
      expect(e1Changes.every((c) => E1_SIMS.includes(c.iccid))).toBe(true);
      expect(await changes(e1.key, `&iccid=${e2Sim}`)).toEqual([]);
      expect(await changes(r2.key, `&iccid=${e2Sim}`)).toEqual([]);
      expect((await changes(e2.key, `&iccid=${e2Sim}`)).length).toBeGreaterThan(0);
      expect((await changes(r1.key, `&iccid=${e2Sim}`)).length).toBeGreaterThan(0);
      const r2Changes = await changes(r2.key);
      expect(r2Changes.every((c) => E3_SIMS.includes(c.iccid))).toBe(true);
      const own = await api(e2.key, 'GET', `/api/v1/sims/${e2Sim}/changes`);
      expect(own.statusCode).toBe(200);
      expect(own.json().items.map((c: { field: string }) => c.field)).toEqual(expect.arrayContaining(['account', 'group', 'labels']));
    });

    it('moving a SIM to a sibling moves its visibility and drops the old group', async () => {
      const iccid = E1_SIMS[3]!;
      expect((await api(e1.key, 'PATCH', `/api/v1/sims/${iccid}`, { groupId: e1GroupId })).json().groupId).toBe(e1GroupId);
      // An enterprise cannot give its SIM away.
      expect(outcome(await api(e1.key, 'PATCH', `/api/v1/sims/${iccid}`, { accountId: e2.accountId }))).toEqual({ status: 403, code: 'forbidden' });
      // Its reseller cannot send it out of its subtree.
      expect(outcome(await api(r1.key, 'PATCH', `/api/v1/sims/${iccid}`, { accountId: e3.accountId }))).toEqual({ status: 404, code: 'account_not_found' });
      const moved = await api(r1.key, 'PATCH', `/api/v1/sims/${iccid}`, { accountId: e2.accountId });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({ accountId: e2.accountId, groupId: null });
      expect(outcome(await api(e1.key, 'GET', `/api/v1/sims/${iccid}`))).toEqual({ status: 404, code: 'sim_not_found' });
      expect(outcome(await api(e1.key, 'GET', `/api/v1/sims/${iccid}/changes`))).toEqual({ status: 404, code: 'sim_not_found' });
      expect((await api(e2.key, 'GET', `/api/v1/sims/${iccid}`)).statusCode).toBe(200);
      const back = await api(r1.key, 'PATCH', `/api/v1/sims/${iccid}`, { accountId: e1.accountId });
      expect(back.json()).toMatchObject({ accountId: e1.accountId, groupId: null });
    });
  });

  describe('imports', () => {
    it('only operators and resellers import, and only into accounts they see', async () => {
      expect(outcome(await api(e1.key, 'POST', '/api/v1/sims/imports', simCsv(100, 2)))).toEqual({ status: 403, code: 'forbidden' });
      expect(outcome(await api(r1.key, 'POST', `/api/v1/sims/imports?accountId=${e3.accountId}`, simCsv(100, 2)))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(r2.key, 'POST', `/api/v1/sims/imports?accountId=${e1.accountId}`, simCsv(100, 2)))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(r1a.key, 'POST', `/api/v1/sims/imports?accountId=${r1.accountId}`, simCsv(100, 2)))).toEqual({ status: 404, code: 'account_not_found' });
      expect(outcome(await api(e1.key, 'GET', `/api/v1/sims/${iccidFor(100)}`))).toEqual({ status: 404, code: 'sim_not_found' });
      expect(outcome(await t.api('GET', `/api/v1/sims/${iccidFor(100)}`))).toEqual({ status: 404, code: 'sim_not_found' });

      const job = await runJob(r1.key, 'POST', `/api/v1/sims/imports?accountId=${e1.accountId}`, simCsv(100, 2));
      expect(job).toMatchObject({ accountId: e1.accountId, summary: { created: 2, failed: 0 } });
      expect((await sim(iccidFor(100))).accountId).toBe(e1.accountId);
      expect((await api(e1.key, 'GET', `/api/v1/jobs/${job.id}`)).statusCode).toBe(200);
      expect(outcome(await api(e2.key, 'GET', `/api/v1/jobs/${job.id}`))).toEqual({ status: 404, code: 'job_not_found' });
      expect(outcome(await api(r2.key, 'GET', `/api/v1/jobs/${job.id}/results`))).toEqual({ status: 404, code: 'job_not_found' });
    });

    it('importing another tenant\'s ICCID fails that row and leaves the SIM where it is', async () => {
      const csv = `iccid,imsi,msisdn,batch,labels\n${e1Sim},${imsiFor(501)},,B9,grabbed\n${iccidFor(502)},${imsiFor(502)},,B9,\n`;
      const job = await runJob(r2.key, 'POST', `/api/v1/sims/imports?accountId=${e3.accountId}`, csv);
      expect(job.summary).toMatchObject({ created: 1, failed: 1 });
      const results = (await api(r2.key, 'GET', `/api/v1/jobs/${job.id}/results`)).json().items;
      expect(results.map((r: { subject: string; code: string }) => [r.subject, r.code])).toEqual([[e1Sim, 'duplicate_iccid']]);
      const s = await sim(e1Sim);
      expect(s).toMatchObject({ accountId: e1.accountId, batch: 'B1', imsi: imsiFor(1) });
      expect(s.labels).not.toContain('grabbed');
      expect(iccidsOf(await api(r2.key, 'GET', '/api/v1/sims?limit=1000'))).toEqual(sorted([...E3_SIMS, iccidFor(502)]));
    });
  });

  describe('bulk jobs and jobs', () => {
    it('a bulk job by ICCID list reports foreign SIMs as sim_not_found and leaves them untouched', async () => {
      const before = await sim(e2Sim);
      const job = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', {
        selection: { iccids: [E1_SIMS[1]!, e2Sim, e3Sim] },
        change: { update: { addLabels: ['bulk-by-e1'] } },
      });
      expect(job).toMatchObject({ accountId: e1.accountId, total: 3, failed: 2, summary: { succeeded: 1, failed: 2 } });
      const results = (await api(e1.key, 'GET', `/api/v1/jobs/${job.id}/results`)).json().items as { subject: string; ok: boolean; code: string }[];
      expect(Object.fromEntries(results.map((r) => [r.subject, r.code]))).toEqual({
        [E1_SIMS[1]!]: 'changed',
        [e2Sim]: 'sim_not_found',
        [e3Sim]: 'sim_not_found',
      });
      const after = await sim(e2Sim);
      expect(after.labels).toEqual(before.labels);
      expect(after.updatedAt).toBe(before.updatedAt);
      expect((await sim(e3Sim)).labels).not.toContain('bulk-by-e1');
      expect((await sim(E1_SIMS[1]!)).labels).toContain('bulk-by-e1');

      const stateJob = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: [e2Sim, e3Sim] }, change: { state: { state: 'active' } } });
      expect(stateJob).toMatchObject({ total: 2, failed: 2 });
      expect((await sim(e2Sim)).state).toBe('inventory');
      expect((await sim(e3Sim)).state).toBe('inventory');
      expect(t.simulator.log.filter((r) => r.iccid === e2Sim || r.iccid === e3Sim)).toEqual([]);
    });

    it('a bulk job by filter touches only the caller\'s SIMs, whatever the filter names', async () => {
      const all = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', { selection: { filter: {} }, change: { update: { addLabels: ['e1-fleet'] } } });
      const e1Now = iccidsOf(await api(e1.key, 'GET', '/api/v1/sims?limit=1000'));
      expect(all.total).toBe(e1Now.length);
      const labelled = iccidsOf(await t.api('GET', '/api/v1/sims?limit=1000&label=e1-fleet'));
      expect(labelled).toEqual(e1Now);

      const foreign = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', {
        selection: { filter: { accountId: e2.accountId } },
        change: { state: { state: 'active' } },
      });
      expect(foreign).toMatchObject({ total: 0, done: 0 });
      const byGroup = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', { selection: { filter: { groupId: e2GroupId } }, change: { update: { addLabels: ['x'] } } });
      expect(byGroup.total).toBe(0);
      expect((await sim(e2Sim)).groupId).toBe(e2GroupId);

      const reseller = await runJob(r2.key, 'POST', '/api/v1/bulk-jobs', { selection: { filter: { batch: 'B1' } }, change: { update: { addLabels: ['r2-b1'] } } });
      expect(reseller.total).toBe(E3_SIMS.length);
      expect(iccidsOf(await t.api('GET', '/api/v1/sims?limit=1000&label=r2-b1'))).toEqual(E3_SIMS);
      // A bulk move into a foreign account is refused before any job is queued.
      expect(outcome(await api(r1.key, 'POST', '/api/v1/bulk-jobs', { selection: { filter: {} }, change: { update: { accountId: e3.accountId } } }))).toEqual({
        status: 404,
        code: 'account_not_found',
      });
    });

    it('jobs and their results are visible only in scope', async () => {
      const e1Job = await runJob(e1.key, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: [e1Sim] }, change: { update: { addLabels: ['seen'] } } });
      const jobIds = async (key: string) => ((await api(key, 'GET', '/api/v1/jobs?limit=1000')).json().items as { id: string; accountId: string }[]);
      expect((await jobIds(e1.key)).map((j) => j.id)).toContain(e1Job.id);
      expect((await jobIds(r1.key)).map((j) => j.id)).toContain(e1Job.id);
      expect((await jobIds(operator.key)).map((j) => j.id)).toContain(e1Job.id);
      for (const key of [e2.key, r2.key, e3.key, r1a.key]) {
        const visible = await jobIds(key);
        expect(visible.map((j) => j.id)).not.toContain(e1Job.id);
        expect(outcome(await api(key, 'GET', `/api/v1/jobs/${e1Job.id}`))).toEqual({ status: 404, code: 'job_not_found' });
        expect(outcome(await api(key, 'GET', `/api/v1/jobs/${e1Job.id}/results`))).toEqual({ status: 404, code: 'job_not_found' });
      }
      expect((await jobIds(e2.key)).every((j) => j.accountId === e2.accountId)).toBe(true);
      expect((await jobIds(r2.key)).every((j) => [r2.accountId, e3.accountId].includes(j.accountId))).toBe(true);
      // The operator's own import is not the enterprises' business.
      expect(outcome(await api(e1.key, 'GET', `/api/v1/jobs/${operatorImportJobId}`))).toEqual({ status: 404, code: 'job_not_found' });
      expect(outcome(await api(r1.key, 'GET', `/api/v1/jobs/${operatorImportJobId}/results`))).toEqual({ status: 404, code: 'job_not_found' });
      // Cancelling: a foreign job is not found, one's own finished job is not cancellable.
      expect(outcome(await api(e2.key, 'POST', `/api/v1/jobs/${e1Job.id}/cancel`))).toEqual({ status: 404, code: 'job_not_found' });
      expect(outcome(await api(e1.key, 'POST', `/api/v1/jobs/${e1Job.id}/cancel`))).toEqual({ status: 409, code: 'job_not_cancellable' });
      // Change records made by a job are filtered by the same scope.
      expect((await api(e2.key, 'GET', `/api/v1/changes?jobId=${e1Job.id}`)).json().items).toEqual([]);
      expect((await api(e1.key, 'GET', `/api/v1/changes?jobId=${e1Job.id}`)).json().items).toHaveLength(1);
    });
  });

  describe('roles', () => {
    it('a read_only key reads everything in scope and every write is 403 forbidden', async () => {
      for (const url of ['/api/v1/sims', `/api/v1/sims/${e1Sim}`, `/api/v1/sims/${e1Sim}/changes`, '/api/v1/changes', '/api/v1/groups', '/api/v1/users', '/api/v1/api-keys', '/api/v1/jobs', '/api/v1/accounts', `/api/v1/accounts/${e1.accountId}`]) {
        expect((await api(e1ReadOnly, 'GET', url)).statusCode, url).toBe(200);
      }
      expect(iccidsOf(await api(e1ReadOnly, 'GET', '/api/v1/sims?limit=1000'))).toEqual(iccidsOf(await api(e1.key, 'GET', '/api/v1/sims?limit=1000')));
      const lookup = await api(e1ReadOnly, 'POST', '/api/v1/sims/lookup', { by: 'iccid', values: [e1Sim] });
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json().items[0].found).toBe(true);

      const before = await sim(e1Sim);
      const someKey = (await api(e1.key, 'GET', '/api/v1/api-keys')).json().items[0].id as string;
      const writes: [string, string, unknown?][] = [
        ['PATCH', `/api/v1/sims/${e1Sim}`, { labels: ['ro'] }],
        ['POST', `/api/v1/sims/${e1Sim}/state`, { state: 'active' }],
        ['DELETE', `/api/v1/sims/${e1Sim}`],
        ['PATCH', `/api/v1/sims/${e2Sim}`, { labels: ['ro'] }],
        ['POST', '/api/v1/sims/imports', simCsv(300, 1)],
        ['POST', '/api/v1/bulk-jobs', { selection: { filter: {} }, change: { update: { addLabels: ['ro'] } } }],
        ['POST', '/api/v1/groups', { name: 'ro group' }],
        ['PATCH', `/api/v1/groups/${e1GroupId}`, { name: 'ro' }],
        ['DELETE', `/api/v1/groups/${e1GroupId}`],
        ['POST', '/api/v1/users', { email: 'ro@e1.example', name: 'ro', role: 'read_only', password: 'long enough password' }],
        ['POST', '/api/v1/api-keys', { name: 'ro', role: 'read_only' }],
        ['POST', `/api/v1/api-keys/${someKey}/revoke`],
        ['DELETE', `/api/v1/api-keys/${someKey}`],
        ['POST', '/api/v1/accounts', { kind: 'enterprise', name: 'ro' }],
        ['PATCH', `/api/v1/accounts/${e1.accountId}`, { name: 'ro' }],
      ];
      for (const [method, url, body] of writes) {
        expect(outcome(await api(e1ReadOnly, method, url, body)), `${method} ${url}`).toEqual({ status: 403, code: 'forbidden' });
      }
      const after = await sim(e1Sim);
      expect(after.labels).toEqual(before.labels);
      expect(after.state).toBe(before.state);
      expect((await api(e1.key, 'GET', `/api/v1/groups/${e1GroupId}`)).json().name).toBe('meters');
      expect((await api(e1.key, 'GET', `/api/v1/api-keys/${someKey}`)).json().revokedAt).toBeNull();
      expect(iccidsOf(await t.api('GET', `/api/v1/sims?iccid=${iccidFor(300)}`))).toEqual([]);

      // The operator's read_only key sees everything and changes nothing, the simulator included.
      expect(iccidsOf(await api(operatorReadOnly, 'GET', '/api/v1/sims?limit=1000'))).toEqual(iccidsOf(await t.api('GET', '/api/v1/sims?limit=1000')));
      for (const [method, url, body] of [
        ['PATCH', `/api/v1/sims/${e3Sim}`, { labels: ['ro'] }],
        ['POST', '/api/v1/accounts', { kind: 'reseller', name: 'ro' }],
        ['PUT', '/api/v1/provisioning/simulator', { failureRate: 1 }],
        ['POST', '/api/v1/sims/imports', simCsv(300, 1)],
      ] as const) {
        expect(outcome(await api(operatorReadOnly, method, url, body)), `${method} ${url}`).toEqual({ status: 403, code: 'forbidden' });
      }
      expect(t.simulator.getBehaviour().failureRate).toBe(0);
    });

    it('an enterprise_operator changes SIMs but cannot manage users, keys or groups', async () => {
      const iccid = E1_SIMS[2]!;
      const patched = await api(e1Operator, 'PATCH', `/api/v1/sims/${iccid}`, { addLabels: ['field-team'], deviceName: 'pump 7' });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toMatchObject({ deviceName: 'pump 7', labels: expect.arrayContaining(['field-team']) });
      const activated = await api(e1Operator, 'POST', `/api/v1/sims/${iccid}/state`, { state: 'active' });
      expect(activated.statusCode, activated.body).toBe(200);
      expect(activated.json().sim.state).toBe('active');
      const bulk = await runJob(e1Operator, 'POST', '/api/v1/bulk-jobs', { selection: { iccids: [iccid] }, change: { state: { state: 'suspended' } } });
      expect(bulk.summary).toMatchObject({ succeeded: 1, failed: 0 });
      expect((await sim(iccid)).state).toBe('suspended');
      // Still confined to its own account.
      expect(outcome(await api(e1Operator, 'PATCH', `/api/v1/sims/${e2Sim}`, { labels: ['x'] }))).toEqual({ status: 404, code: 'sim_not_found' });

      for (const [method, url, body] of [
        ['POST', '/api/v1/users', { email: 'op@e1.example', name: 'op', role: 'read_only', password: 'long enough password' }],
        ['POST', '/api/v1/api-keys', { name: 'op', role: 'read_only' }],
        ['POST', '/api/v1/api-keys', { name: 'op', role: 'enterprise_admin' }],
        ['POST', '/api/v1/groups', { name: 'op group' }],
        ['POST', '/api/v1/sims/imports', simCsv(300, 1)],
        ['DELETE', `/api/v1/sims/${E1_SIMS[1]!}`],
        ['PATCH', `/api/v1/sims/${iccid}`, { accountId: e1.accountId }],
      ] as const) {
        expect(outcome(await api(e1Operator, method, url, body)), `${method} ${url}`).toEqual({ status: 403, code: 'forbidden' });
      }
      const keyNames = (await api(e1.key, 'GET', '/api/v1/api-keys')).json().items.map((k: { name: string }) => k.name);
      expect(keyNames).not.toContain('op');
    });

    it('the same Idempotency-Key from two tenants never replays one tenant\'s response to the other', async () => {
      const send = (key: string) => t.api('POST', '/api/v1/groups', { name: 'shared name' }, { key, headers: { 'idempotency-key': 'same-key-1' } });
      const first = await send(e1.key);
      const second = await send(e2.key);
      expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      expect(first.json().accountId).toBe(e1.accountId);
      expect(second.json().accountId).toBe(e2.accountId);
      expect(second.json().id).not.toBe(first.json().id);
      const replay = await send(e1.key);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json().id).toBe(first.json().id);
    });

    it('an enterprise admin manages its own users and keys', async () => {
      const key = await api(e1.key, 'POST', '/api/v1/api-keys', { name: 'integration', role: 'enterprise_operator' });
      expect(key.statusCode).toBe(201);
      expect(key.json()).toMatchObject({ accountId: e1.accountId, role: 'enterprise_operator', createdBy: expect.stringMatching(/^key:/) });
      const me = await api(key.json().secret, 'GET', '/api/v1/auth/me');
      expect(me.json()).toMatchObject({ accountId: e1.accountId, accountKind: 'enterprise', role: 'enterprise_operator', source: 'api' });
      expect((await api(e1.key, 'POST', `/api/v1/api-keys/${key.json().id}/revoke`)).json().revokedAt).not.toBeNull();
    });
  });
});
