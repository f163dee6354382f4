import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { bootstrapOperator } from '../../src/modules/accounts/bootstrap.ts';
import { SimulatedProvisioningAdapter } from '../../src/modules/provisioning/simulated.adapter.ts';
import { insertPlanVersions, insertZones } from '../../src/modules/rating/catalog.repository.ts';
import type { RatePlan } from '../../src/modules/rating/rate-plan.ts';
import { createPlatform, type Platform } from '../../src/platform.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { type Dialect, freshDatabase } from './databases.ts';

export interface TestPlatform {
  dialect: Dialect;
  platform: Platform;
  app: FastifyInstance;
  clock: ManualClock;
  simulator: SimulatedProvisioningAdapter;
  config: Config;
  /** API key of the operator admin. */
  operatorKey: string;
  operatorAccountId: string;
  /** Calls the API as the holder of `key` (default: the operator admin). */
  api(method: string, url: string, body?: unknown, options?: { key?: string; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Runs queued jobs to the end. */
  drainJobs(): Promise<void>;
  /** Stops the platform as a process stop would (workers finish, database closes) and starts it again on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A whole platform on a fresh database with a manual clock and the simulated network, driven through HTTP inject. */
export async function startTestPlatform(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { onDisk?: boolean; realProvisioning?: boolean } = {},
): Promise<TestPlatform> {
  const database = await freshDatabase(dialect, options);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: database.dataDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const clock = new ManualClock('2026-01-15T02:00:00Z');
  const simulator = new SimulatedProvisioningAdapter();
  // NOTE: with realProvisioning the configured adapter (e.g. HTTP) is used instead of the shared simulator.
  const provisioning = options.realProvisioning ? undefined : simulator;
  const platform = await createPlatform(config, { clock, provisioning });
  const boot = await bootstrapOperator(platform.services.db, platform.services.auth, {
    ...config.bootstrap,
    adminPassword: 'correct horse battery staple',
    timezone: config.defaultTimezone,
  });
  const app = await buildApp(platform.services);
  await app.ready();
  const operatorKey = boot.apiKey!;
  const t: TestPlatform = {
    dialect,
    platform,
    app,
    clock,
    simulator,
    config,
    operatorKey,
    operatorAccountId: boot.operatorAccountId,
    api(method, url, body, options = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? operatorKey}`, ...options.headers };
      const isText = typeof body === 'string';
      if (isText) headers['content-type'] ??= 'text/csv';
      return t.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(body === undefined ? {} : isText ? { payload: body } : { payload: body as object }),
      });
    },
    drainJobs: () => t.platform.runner.settle(),
    async restart() {
      await t.app.close();
      await t.platform.close();
      t.platform = await createPlatform(config, { clock, provisioning });
      t.app = await buildApp(t.platform.services);
      await t.app.ready();
    },
    async close() {
      await t.app.close();
      await t.platform.close();
      await database.drop();
    },
  };
  return t;
}

/** Creates an account of `kind` under `parentId` with an admin API key; returns both. */
export async function createTenant(
  t: TestPlatform,
  kind: 'reseller' | 'enterprise',
  name: string,
  options: { parentId?: string; key?: string; role?: string } = {},
): Promise<{ accountId: string; key: string }> {
  const account = await t.api('POST', '/api/v1/accounts', { kind, name, parentId: options.parentId }, { key: options.key });
  if (account.statusCode !== 201) throw new Error(`account: ${account.body}`);
  const accountId = account.json<{ id: string }>().id;
  const key = await t.api('POST', '/api/v1/api-keys', { accountId, name: `${name} key`, role: options.role }, { key: options.key });
  if (key.statusCode !== 201) throw new Error(`api key: ${key.body}`);
  return { accountId, key: key.json<{ secret: string }>().secret };
}

/** Imports SIMs from `csv` (into `accountId`, default the caller's account) and activates every SIM still in inventory. */
export async function importAndActivate(t: TestPlatform, csv: string, accountId?: string): Promise<void> {
  await t.api('POST', `/api/v1/sims/imports${accountId ? `?accountId=${accountId}` : ''}`, csv);
  await t.drainJobs();
  await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } } });
  await t.drainJobs();
}

/** Loads a catalog of one zone, China, and `plans` into the operator's account, and has the usage engine read it. */
export async function installChinaCatalog(t: TestPlatform, plans: RatePlan[]): Promise<void> {
  const { db, usage } = t.platform.services;
  const now = t.clock.now();
  await insertZones(db, t.operatorAccountId, [{ id: 'CN', name: 'China', countries: ['CN'], networks: [] }], now);
  await insertPlanVersions(db, t.operatorAccountId, plans, now);
  await usage.rating.reloadCatalog();
}
