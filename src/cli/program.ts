import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.ts';
import { migrateToLatest, openDatabase } from '../db/open-database.ts';
import { buildApp } from '../http/app.ts';
import { createPlatform } from '../platform.ts';
import { startServer, stopOnSignals } from '../server.ts';
import { registerApiCommands } from './api-commands.ts';

function config() {
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
    .description('run the platform: HTTP API on PORT, database migrations, job runner and lifecycle scheduler')
    .action(async () => {
      const c = config();
      const server = await startServer(c);
      stopOnSignals(server, c.shutdownTimeoutMs);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const c = config();
      const database = await openDatabase({ url: c.database.url, dataDir: c.database.dataDir });
      const applied = await migrateToLatest(database.db);
      await database.close();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    });

  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document')
    .action(async () => {
      const platform = await createPlatform({ ...config(), logLevel: 'silent', database: { dataDir: 'memory://' } });
      const app = await buildApp(platform.services);
      await app.ready();
      process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
      await app.close();
      await platform.close();
    });

  registerApiCommands(program);
  return program;
}
