import { loadConfig } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { type Dialect, freshDatabase } from './databases.ts';

export type ApiAnswer = { status: number; body: Record<string, unknown> & { items: Record<string, unknown>[] } };

/**
 * A whole server on a fresh database with HTTP and RADIUS on free local ports, `key` as the operator's API key, and
 * Disconnect-Requests that give up quickly (200 ms, one retry).
 */
export async function startRadiusTestServer(dialect: Dialect, key: string, options: { clock?: Clock } = {}): Promise<{ server: RunningServer; drop: () => Promise<void> }> {
  const db = await freshDatabase(dialect);
  const server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: db.dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      LOG_LEVEL: 'silent',
      MERIDIAN_API_KEY: key,
      RADIUS_HOST: '127.0.0.1',
      RADIUS_AUTH_PORT: '0',
      RADIUS_ACCT_PORT: '0',
      DISCONNECT_TIMEOUT_MS: '200',
      DISCONNECT_RETRIES: '1',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    }),
    { ...(options.clock ? { clock: options.clock } : {}), print: () => {} },
  );
  return { server, drop: () => db.drop() };
}

/** Calls the server's API over HTTP: a string body is sent as CSV, anything else as JSON. */
export async function callApi(server: RunningServer, key: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : typeof body === 'string' ? { 'content-type': 'text/csv' } : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as ApiAnswer['body'] };
}

/** Polls `check` every 50 ms, at most 100 times, until it holds. */
export async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
}
