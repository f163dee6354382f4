import { setFlagsFromString } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { buildApp } from './http/app.ts';
import { createRegistry, registerUsageMetrics } from './http/metrics.ts';
import { RadiusServer } from './radius/udp-server.ts';
import { bootstrapOperator } from './modules/accounts/bootstrap.ts';
import { createPlatform, type Platform } from './platform.ts';
import type { Clock } from './shared/clock.ts';

export interface RunningServer {
  app: FastifyInstance;
  platform: Platform;
  url: string;
  /** UDP ports of the RADIUS server, when it runs. */
  radius?: { authPort: number; acctPort: number };
  /** Graceful stop: no new requests, in-flight requests and job chunks finish, then the database closes. */
  stop(): Promise<void>;
}

/** Starts the whole platform: database, migrations, first-start bootstrap, workers and the HTTP server. */
export async function startServer(config: Config, options: { clock?: Clock; print?: (line: string) => void } = {}): Promise<RunningServer> {
  // NOTE: V8 reads this flag at every major collection, so it takes effect in the running process (ADR 0033).
  setFlagsFromString(`--heap-growing-percent=${config.gcHeapGrowthPercent}`);
  const platform = await createPlatform(config, { clock: options.clock });
  const { services, log } = platform;
  const boot = await bootstrapOperator(services.db, services.auth, { ...config.bootstrap, timezone: config.defaultTimezone });
  if (boot.created) {
    const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
    // NOTE: secrets go to stdout once, never to the log.
    print('');
    print('Meridian first start: operator account created.');
    print(`  operator account  ${boot.operatorAccountId}`);
    print(`  admin e-mail      ${boot.adminEmail}`);
    print(`  admin password    ${boot.adminPassword ?? '(from MERIDIAN_ADMIN_PASSWORD)'}`);
    print(`  API key           ${boot.apiKey ?? '(from MERIDIAN_API_KEY)'}`);
    print('Store these now: they are not shown again.');
    print('');
  }
  let ready = false;
  const registry = createRegistry();
  registerUsageMetrics(registry, services.usage);
  const app = await buildApp(services, { logger: log, isReady: () => ready, registry });
  const radius = config.radius.enabled ? new RadiusServer(platform.network.gatewayCache, services.usage, log, registry, config.radius, platform.network.policies) : undefined;
  await platform.startWorkers();
  const radiusPorts = await radius?.start();
  await app.listen({ port: config.http.port, host: config.http.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  ready = true;
  log.info({ url, radius: radiusPorts ?? 'disabled', database: platform.database.dialect, provisioning: services.provisioning.name }, 'Meridian is listening');

  let stopping: Promise<void> | undefined;
  return {
    app,
    platform,
    url,
    radius: radiusPorts,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await radius?.stop();
        await app.close();
        await platform.close();
        log.info('Meridian stopped');
      })();
      return stopping;
    },
  };
}

/** Stops gracefully on SIGTERM/SIGINT; a second signal or the timeout forces the exit. */
export function stopOnSignals(server: RunningServer, timeoutMs: number): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    server.platform.log.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      server.platform.log.error({ timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.platform.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
