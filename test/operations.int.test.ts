import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const KEY = 'mk_operationsTestKey0123456789abcdef';

describe('a running server', () => {
  let server: RunningServer;
  const printed: string[] = [];
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    server = await startServer(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', MERIDIAN_API_KEY: KEY, PROVISIONING_SIM_DELAY_MS: '400', RADIUS_AUTH_PORT: '0', RADIUS_ACCT_PORT: '0', RADIUS_HOST: '127.0.0.1' }),
      { print: (line) => printed.push(line) },
    );
  });
  afterAll(() => server?.stop());

  it('prints the first-start secrets once: a generated password, and no echo of a key taken from the environment', () => {
    const text = printed.join('\n');
    expect(text).toMatch(/admin password\s+\S{12,}/);
    expect(text).toContain('(from MERIDIAN_API_KEY)');
    expect(text).not.toContain(KEY);
  });

  it('answers health, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    await call('/api/v1/sims');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('meridian_http_requests_total{method="GET",route="/api/v1/sims",status="200"}');
    expect(metrics).toContain('meridian_process_cpu_seconds_total');
    expect(metrics).toMatch(/^meridian_usage_sessions_held\{state="open"\} \d+$/m);
    expect(metrics).toMatch(/^meridian_usage_sessions_held\{state="stopped"\} \d+$/m);
  });

  it('finishes in-flight requests when stopping, then refuses new ones', async () => {
    const imported = await call('/api/v1/sims/imports', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: simCsv(1, 1) });
    expect(imported.status).toBe(202);
    const jobId = ((await imported.json()) as { id: string }).id;
    for (let i = 0; i < 50; i++) {
      const job = (await (await call(`/api/v1/jobs/${jobId}`)).json()) as { status: string };
      if (job.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const inFlight = call(`/api/v1/sims/${iccidFor(1)}/state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'active' }) });
    await new Promise((r) => setTimeout(r, 100));
    const stopping = server.stop();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sim: { state: string } }).sim.state).toBe('active');
    await stopping;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe('rate limiting', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('pglite', { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
  });
  afterAll(() => t?.close());

  it('limits each API key and says when to retry', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.api('GET', '/api/v1/auth/me')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.api('GET', '/api/v1/auth/me');
    expect(limited.json().code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
