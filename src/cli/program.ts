import { Command } from 'commander';
import type { Config } from '../config/config.ts';
import { registerApiCommands } from './api-commands.ts';

// NOTE: the server stack (database, HTTP, platform) is imported inside the server commands only, so the
// API client commands start quickly.
async function config(): Promise<Config> {
  const { ConfigError, loadConfig } = await import('../config/config.ts');
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** The `meridian` command line: server roles locally, everything else through the REST API. */
export function buildProgram(): Command {
  const program = new Command('meridian')
    .description('Meridian IoT connectivity management platform')
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });

  program
    .command('start')
    .description('run the platform: database migrations, HTTP API on PORT, RADIUS on RADIUS_AUTH_PORT/RADIUS_ACCT_PORT, job runner and scheduler')
    .action(async () => {
      const c = await config();
      const { startServer, stopOnSignals } = await import('../server.ts');
      const server = await startServer(c);
      stopOnSignals(server, c.shutdownTimeoutMs);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const c = await config();
      const { migrateToLatest, openDatabase } = await import('../db/open-database.ts');
      const database = await openDatabase({ url: c.database.url, dataDir: c.database.dataDir });
      const applied = await migrateToLatest(database.db);
      await database.close();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    });

  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document')
    .action(async () => {
      const c = await config();
      const [{ createLogger, createPlatform }, { buildApp }] = await Promise.all([import('../platform.ts'), import('../http/app.ts')]);
      // NOTE: silent, or the start-up log lines would end up in the document on stdout.
      const platform = await createPlatform({ ...c, database: { dataDir: 'memory://' } }, { log: createLogger('silent') });
      const app = await buildApp(platform.services);
      await app.ready();
      process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
      await app.close();
      await platform.close();
    });

  program
    .command('events-doc')
    .description('print the event catalogue as Markdown (docs/events.md)')
    .action(async () => {
      const { renderEventDocs } = await import('../modules/events/event-docs.ts');
      process.stdout.write(renderEventDocs());
    });

  registerApiCommands(program);
  return program;
}
