import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../src/db/migrations/index.ts';
import { migrateToLatest, openDatabase, type OpenDatabase } from '../src/db/open-database.ts';
import { claimUndispatchedEvents } from '../src/modules/webhooks/webhook.repository.ts';
import { freshDatabase, testDialects } from './support/databases.ts';

describe.each(testDialects())('the event fan-out queue migration on %s', (dialect) => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let database: OpenDatabase;

  beforeAll(async () => {
    fresh = await freshDatabase(dialect);
    database = await openDatabase({ url: fresh.url, dataDir: fresh.dataDir });
    const migrated = await new Migrator({ db: database.db, provider: migrationProvider }).migrateTo('0016-sms-usage');
    if (migrated.error) throw migrated.error instanceof Error ? migrated.error : new Error(JSON.stringify(migrated.error));
  });
  afterAll(async () => {
    await database?.close();
    await fresh?.drop();
  });

  it('keeps every event that was waiting for the fan-out, and only those', async () => {
    await sql`INSERT INTO accounts (id, parent_id, kind, name, path) VALUES ('acc_q', NULL, 'operator', 'Q', '/acc_q/')`.execute(database.db);
    await sql`INSERT INTO events (id, type, account_id, subject_kind, subject_id, data, occurred_at, dispatched_at) VALUES
              ('evt_sent', 'sim.state_changed', 'acc_q', 'sim', '1', '{}', now(), now()),
              ('evt_waiting_1', 'sim.state_changed', 'acc_q', 'sim', '2', '{}', now(), NULL),
              ('evt_waiting_2', 'sim.state_changed', 'acc_q', 'sim', '3', '{}', now(), NULL)`.execute(database.db);

    await migrateToLatest(database.db);

    const claimed = await database.db.transaction().execute((trx) => claimUndispatchedEvents(trx, 10));
    expect(claimed.map((e) => e.id)).toEqual(['evt_waiting_1', 'evt_waiting_2']);
    expect(claimed[0]!.path).toBe('/acc_q/');
    expect(await database.db.transaction().execute((trx) => claimUndispatchedEvents(trx, 10))).toEqual([]);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(database.db);
    expect(rows[0]!.n).toBe(3);
  });
});
