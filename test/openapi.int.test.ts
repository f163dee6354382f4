import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

describe('OpenAPI document', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('pglite');
  });
  afterAll(() => t?.close());

  it('is served at /openapi.json as OpenAPI 3.1 with every resource', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/accounts', '/api/v1/users', '/api/v1/api-keys', '/api/v1/groups', '/api/v1/sims', '/api/v1/sims/{iccid}', '/api/v1/sims/{iccid}/state', '/api/v1/changes', '/api/v1/bulk-jobs', '/api/v1/jobs/{id}/results', '/api/v1/sims/lookup', '/api/v1/sims/imports']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it('committed copy docs/openapi.json is current (regenerate with npm run openapi)', async () => {
    const served = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(served);
  });

  it('serves a reference page at /docs listing the operations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('/api/v1/sims/{iccid}/state');
  });
});
