import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const ADMIN_EMAIL = 'admin@meridian.local';
const ADMIN_PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

function outcome(res: LightMyRequestResponse): { status: number; code?: string } {
  const body = res.body ? res.json<{ code?: string }>() : {};
  return body.code === undefined ? { status: res.statusCode } : { status: res.statusCode, code: body.code };
}

describe.each(testDialects())('authentication on %s', (dialect) => {
  let t: TestPlatform;
  let ipSerial = 0;
  /** A client address of its own, so the per-address login throttle of one test does not spill into another. */
  const newIp = () => `198.51.100.${++ipSerial}`;

  /** A request with only the credentials given here (t.api always sends the operator key). */
  function raw(method: string, url: string, options: { cookie?: string; bearer?: string; apiKey?: string; body?: object; ip?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = `meridian_session=${options.cookie}`;
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    return t.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(options.ip ? { remoteAddress: options.ip } : {}),
      ...(options.body ? { payload: options.body } : {}),
    });
  }
  const login = (email: string, password: string, ip: string) => raw('POST', '/api/v1/auth/login', { body: { email, password }, ip });
  const sessionOf = (res: LightMyRequestResponse): string => {
    const cookie = res.cookies.find((c) => c.name === 'meridian_session');
    expect(cookie, 'session cookie').toBeDefined();
    return cookie!.value;
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
  });
  afterAll(() => t?.close());

  describe('login sessions', () => {
    it('logs the bootstrap admin in with a session cookie that works on /auth/me', async () => {
      const res = await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp());
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.user).toMatchObject({ email: ADMIN_EMAIL, role: 'operator_admin', accountId: t.operatorAccountId, disabled: false });
      expect(body.user).not.toHaveProperty('passwordHash');
      expect(res.body).not.toContain('scrypt$');
      const cookie = res.cookies.find((c) => c.name === 'meridian_session')!;
      expect(cookie).toMatchObject({ value: body.token, httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(new Date(body.expiresAt).getTime()).toBe(t.clock.now().getTime() + t.config.security.sessionTtlHours * HOUR);

      const me = await raw('GET', '/api/v1/auth/me', { cookie: cookie.value });
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toEqual({ actor: `user:${body.user.id}`, accountId: t.operatorAccountId, accountKind: 'operator', role: 'operator_admin', source: 'web' });
      // The same token works as a bearer token, and the session can do what its role allows.
      expect((await raw('GET', '/api/v1/auth/me', { bearer: body.token })).json().actor).toBe(`user:${body.user.id}`);
      expect((await raw('GET', '/api/v1/accounts', { cookie: cookie.value })).statusCode).toBe(200);
      // E-mail addresses are matched case-insensitively.
      expect((await login('Admin@Meridian.Local', ADMIN_PASSWORD, newIp())).statusCode).toBe(200);
    });

    it('rejects requests without credentials or with an unknown session', async () => {
      expect(outcome(await raw('GET', '/api/v1/auth/me'))).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(await raw('GET', '/api/v1/sims'))).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(await raw('GET', '/api/v1/auth/me', { cookie: 'ms_not-a-real-session' }))).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(await raw('GET', '/api/v1/auth/me', { bearer: 'mk_not-a-real-key-at-all-000000' }))).toEqual({ status: 401, code: 'unauthorized' });
    });

    it('ends the session on logout', async () => {
      const session = sessionOf(await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp()));
      expect((await raw('GET', '/api/v1/auth/me', { cookie: session })).statusCode).toBe(200);
      const out = await raw('POST', '/api/v1/auth/logout', { cookie: session });
      expect(out.statusCode).toBe(204);
      const cleared = out.cookies.find((c) => c.name === 'meridian_session');
      expect(cleared?.value).toBe('');
      expect(outcome(await raw('GET', '/api/v1/auth/me', { cookie: session }))).toEqual({ status: 401, code: 'unauthorized' });
    });

    it('expires a session after SESSION_TTL_HOURS', async () => {
      const session = sessionOf(await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp()));
      t.clock.advance(t.config.security.sessionTtlHours * HOUR - 60_000);
      expect((await raw('GET', '/api/v1/auth/me', { cookie: session })).statusCode).toBe(200);
      t.clock.advance(2 * 60_000);
      expect(outcome(await raw('GET', '/api/v1/auth/me', { cookie: session }))).toEqual({ status: 401, code: 'unauthorized' });
    });

    it('answers a wrong password and an unknown e-mail alike with 401', async () => {
      const wrong = await login(ADMIN_EMAIL, 'not the password at all', newIp());
      const unknown = await login('nobody@meridian.local', ADMIN_PASSWORD, newIp());
      expect(outcome(wrong)).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(unknown)).toEqual({ status: 401, code: 'unauthorized' });
      expect(wrong.json().detail).toBe(unknown.json().detail);
      expect(wrong.cookies.find((c) => c.name === 'meridian_session')).toBeUndefined();
    });
  });

  describe('login throttling', () => {
    it('locks an e-mail address after LOGIN_MAX_FAILURES failures, even for the right password, until the lock ends', async () => {
      const max = t.config.security.loginMaxFailures;
      expect(max).toBe(5);
      // A successful login clears the failure of an earlier test.
      expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp())).statusCode).toBe(200);
      // Failures from different addresses still count against the one e-mail address.
      for (let i = 0; i < max; i++) {
        expect(outcome(await login(ADMIN_EMAIL, `wrong password ${i}`, newIp())), `attempt ${i + 1}`).toEqual({ status: 401, code: 'unauthorized' });
      }
      const locked = await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp());
      expect(outcome(locked)).toEqual({ status: 429, code: 'login_throttled' });
      const lockSeconds = t.config.security.loginLockMinutes * 60;
      expect(Number(locked.headers['retry-after'])).toBe(lockSeconds);
      expect(locked.json().retryAfterSeconds).toBe(lockSeconds);
      expect(locked.cookies.find((c) => c.name === 'meridian_session')).toBeUndefined();
      // Case does not get around the lock.
      expect(outcome(await login(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD, newIp()))).toEqual({ status: 429, code: 'login_throttled' });

      t.clock.advance(lockSeconds * 1000 - 1000);
      expect(outcome(await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp()))).toEqual({ status: 429, code: 'login_throttled' });
      t.clock.advance(2000);
      const after = await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp());
      expect(after.statusCode, after.body).toBe(200);
      expect((await raw('GET', '/api/v1/auth/me', { cookie: sessionOf(after) })).statusCode).toBe(200);
    });

    it('fewer failures than the limit do not lock, and a success clears them', async () => {
      const max = t.config.security.loginMaxFailures;
      const ip = newIp();
      for (let i = 0; i < max - 1; i++) expect((await login(ADMIN_EMAIL, 'wrong password', ip)).statusCode).toBe(401);
      expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, ip)).statusCode).toBe(200);
      for (let i = 0; i < max - 1; i++) expect((await login(ADMIN_EMAIL, 'wrong password', ip)).statusCode).toBe(401);
      expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, ip)).statusCode).toBe(200);
    });

    it('locks a client address that fails too often, for every e-mail address', async () => {
      const ip = newIp();
      for (let i = 0; i < t.config.security.loginMaxFailures; i++) {
        expect((await login(`guess${i}@example.com`, 'some password', ip)).statusCode).toBe(401);
      }
      expect(outcome(await login(ADMIN_EMAIL, ADMIN_PASSWORD, ip))).toEqual({ status: 429, code: 'login_throttled' });
      expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, newIp())).statusCode).toBe(200);
    });
  });

  describe('users', () => {
    it('a disabled user loses its sessions at once and cannot log in; a role change applies at once', async () => {
      const tenant = await createTenant(t, 'enterprise', 'Acme');
      const created = await t.api('POST', '/api/v1/users', {
        accountId: tenant.accountId,
        email: 'Jane@Acme.example',
        name: 'Jane',
        role: 'enterprise_admin',
        password: 'jane has a long password',
      });
      expect(created.statusCode, created.body).toBe(201);
      const user = created.json();
      expect(user.email).toBe('jane@acme.example');
      const res = await login('jane@acme.example', 'jane has a long password', newIp());
      expect(res.statusCode, res.body).toBe(200);
      const session = sessionOf(res);
      expect((await raw('GET', '/api/v1/auth/me', { cookie: session })).json()).toMatchObject({ accountId: tenant.accountId, role: 'enterprise_admin', source: 'web' });
      // The session sees its own account only.
      expect((await raw('GET', '/api/v1/accounts', { cookie: session })).json().items.map((a: { id: string }) => a.id)).toEqual([tenant.accountId]);
      expect((await raw('POST', '/api/v1/groups', { cookie: session, body: { name: 'g' } })).statusCode).toBe(201);

      expect((await t.api('PATCH', `/api/v1/users/${user.id}`, { role: 'read_only' })).statusCode).toBe(200);
      expect(outcome(await raw('POST', '/api/v1/groups', { cookie: session, body: { name: 'h' } }))).toEqual({ status: 403, code: 'forbidden' });

      expect((await t.api('PATCH', `/api/v1/users/${user.id}`, { disabled: true })).statusCode).toBe(200);
      expect(outcome(await raw('GET', '/api/v1/auth/me', { cookie: session }))).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(await login('jane@acme.example', 'jane has a long password', newIp()))).toEqual({ status: 401, code: 'unauthorized' });
    });

    it('refuses short passwords before storing anything', async () => {
      const res = await t.api('POST', '/api/v1/users', { email: 'short@meridian.local', name: 'Short', role: 'read_only', password: 'too short' });
      expect(res.statusCode).toBe(400);
      const emails = (await t.api('GET', '/api/v1/users')).json().items.map((u: { email: string }) => u.email);
      expect(emails).not.toContain('short@meridian.local');
    });
  });

  describe('API keys', () => {
    it('works as Bearer or X-API-Key and shows its secret only once', async () => {
      const created = await t.api('POST', '/api/v1/api-keys', { name: 'ci', role: 'read_only' });
      expect(created.statusCode).toBe(201);
      const { id, secret, prefix } = created.json();
      expect(secret).toMatch(/^mk_/);
      expect(secret.startsWith(prefix)).toBe(true);
      expect((await raw('GET', '/api/v1/auth/me', { bearer: secret })).json()).toMatchObject({ actor: `key:${id}`, role: 'read_only', source: 'api' });
      expect((await raw('GET', '/api/v1/auth/me', { apiKey: secret })).json().actor).toBe(`key:${id}`);
      const listed = await t.api('GET', '/api/v1/api-keys');
      expect(listed.body).not.toContain(secret);
      expect((await t.api('GET', `/api/v1/api-keys/${id}`)).json()).not.toHaveProperty('secret');
    });

    it('a revoked key gets 401 at once, even right after it was used', async () => {
      const tenant = await createTenant(t, 'reseller', 'Revoked Co');
      const extra = (await t.api('POST', '/api/v1/api-keys', { accountId: tenant.accountId, name: 'to revoke' })).json();
      const other = (await t.api('POST', '/api/v1/api-keys', { accountId: tenant.accountId, name: 'to delete' })).json();
      // Used first, so a cached principal exists.
      expect((await raw('GET', '/api/v1/auth/me', { bearer: extra.secret })).statusCode).toBe(200);
      expect((await raw('GET', '/api/v1/accounts', { bearer: other.secret })).statusCode).toBe(200);

      const revoked = await raw('POST', `/api/v1/api-keys/${extra.id}/revoke`, { bearer: tenant.key });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().revokedAt).toBe(t.clock.now().toISOString());
      expect(outcome(await raw('GET', '/api/v1/auth/me', { bearer: extra.secret }))).toEqual({ status: 401, code: 'unauthorized' });
      expect(outcome(await raw('GET', '/api/v1/accounts', { apiKey: extra.secret }))).toEqual({ status: 401, code: 'unauthorized' });

      expect((await raw('DELETE', `/api/v1/api-keys/${other.id}`, { bearer: tenant.key })).statusCode).toBe(204);
      expect(outcome(await raw('GET', '/api/v1/accounts', { bearer: other.secret }))).toEqual({ status: 401, code: 'unauthorized' });
      // Revoked keys stay listed for the audit trail; revoking again changes nothing.
      const again = await raw('POST', `/api/v1/api-keys/${extra.id}/revoke`, { bearer: tenant.key });
      expect(again.json().revokedAt).toBe(revoked.json().revokedAt);
      expect((await raw('GET', '/api/v1/auth/me', { bearer: tenant.key })).statusCode).toBe(200);
    });

    it('an expired key gets 401 once the clock passes expiresAt', async () => {
      const expiresAt = new Date(t.clock.now().getTime() + HOUR).toISOString();
      const past = await t.api('POST', '/api/v1/api-keys', { name: 'past', expiresAt: new Date(t.clock.now().getTime() - 1000).toISOString() });
      expect(outcome(past)).toEqual({ status: 400, code: 'invalid_expiry' });
      const created = await t.api('POST', '/api/v1/api-keys', { name: 'temporary', expiresAt });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().expiresAt).toBe(expiresAt);
      const secret = created.json().secret as string;
      expect((await raw('GET', '/api/v1/auth/me', { bearer: secret })).statusCode).toBe(200);
      t.clock.advance(HOUR - 1000);
      expect((await raw('GET', '/api/v1/accounts', { bearer: secret })).statusCode).toBe(200);
      t.clock.advance(2000);
      expect(outcome(await raw('GET', '/api/v1/auth/me', { bearer: secret }))).toEqual({ status: 401, code: 'unauthorized' });
      expect((await raw('GET', '/api/v1/auth/me', { bearer: secret })).json().detail).toContain('expired');
    });

    it('the keys of a deleted account stop working at once', async () => {
      const doomed = await createTenant(t, 'enterprise', 'Doomed');
      expect((await raw('GET', '/api/v1/auth/me', { bearer: doomed.key })).json().accountId).toBe(doomed.accountId);
      expect((await t.api('DELETE', `/api/v1/accounts/${doomed.accountId}`)).statusCode).toBe(204);
      expect(outcome(await raw('GET', '/api/v1/auth/me', { bearer: doomed.key }))).toEqual({ status: 401, code: 'unauthorized' });
    });
  });
});
