import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.database.url).toBeUndefined();
    expect(c.defaultTimezone).toBe('Asia/Shanghai');
    expect(Object.isFrozen(c.http)).toBe(true);
  });
  it('reports every invalid variable in one message', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DEFAULT_TIMEZONE: 'Mars/Olympus' });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('DEFAULT_TIMEZONE');
  });
  it('requires URL and secret for the HTTP provisioning adapter', () => {
    expect(() => loadConfig({ PROVISIONING_ADAPTER: 'http' })).toThrow(/PROVISIONING_HTTP_URL/);
    const c = loadConfig({ PROVISIONING_ADAPTER: 'http', PROVISIONING_HTTP_URL: 'http://127.0.0.1:9/x', PROVISIONING_HTTP_SECRET: '0123456789abcdef' });
    expect(c.provisioning.adapter).toBe('http');
  });
  it('takes a commit interval of 0 to 1000 ms, 10 by default, and names the variable and the bound otherwise', () => {
    expect(loadConfig({}).radius.commitIntervalMs).toBe(10);
    expect(loadConfig({ RADIUS_COMMIT_INTERVAL_MS: '0' }).radius.commitIntervalMs).toBe(0);
    expect(() => loadConfig({ RADIUS_COMMIT_INTERVAL_MS: '1001' })).toThrow(/RADIUS_COMMIT_INTERVAL_MS: Too big: expected number to be <=1000/);
    expect(() => loadConfig({ RADIUS_COMMIT_INTERVAL_MS: '-1' })).toThrow(/RADIUS_COMMIT_INTERVAL_MS: Too small/);
    expect(() => loadConfig({ RADIUS_COMMIT_INTERVAL_MS: 'ten' })).toThrow(/RADIUS_COMMIT_INTERVAL_MS/);
  });
  it('lets the heap grow 100 % past its live size by default, 0 (V8 decides) to 400', () => {
    expect(loadConfig({}).gcHeapGrowthPercent).toBe(100);
    expect(loadConfig({ GC_HEAP_GROWTH_PERCENT: '0' }).gcHeapGrowthPercent).toBe(0);
    expect(() => loadConfig({ GC_HEAP_GROWTH_PERCENT: '401' })).toThrow(/GC_HEAP_GROWTH_PERCENT: Too big: expected number to be <=400/);
    expect(() => loadConfig({ GC_HEAP_GROWTH_PERCENT: '1.5' })).toThrow(/GC_HEAP_GROWTH_PERCENT/);
  });
});
