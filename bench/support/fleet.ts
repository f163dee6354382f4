/**
 * The database bench/api.ts measures: SIMs of one operator spread over lifecycle states and groups
 * (see STATE_SHARES and GROUP_SHARES). Made once and reused while its recorded content matches.
 */
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { bootstrapOperator } from '../../src/modules/accounts/bootstrap.ts';
import { createPlatform } from '../../src/platform.ts';
import { newId } from '../../src/shared/ids.ts';
import { databaseNote, databaseUrl, IMPORT_DATABASE, importNote, recreateDatabase, setDatabaseNote } from './env.ts';
import { progress } from './report.ts';
import { batchFor, GROUP_LAYOUT, groupPercent, iccidFor, imsiFor, LABEL_SETS, msisdnFor, shapeSql } from './sims.ts';

export const API_DATABASE = 'meridian_bench_api';
const LAYOUT = 2;
const fleetNote = (count: number): string => `meridian-bench api sims=${count} layout=${LAYOUT}`;

export interface Fleet {
  url: string;
  /** How the database came to be, for the report. */
  origin: string;
  groups: Map<string, string>;
  /** Share of each state and group, as loaded. */
  states: string;
  groupShares: string;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function operatorId(c: pg.Client): Promise<string> {
  const r = await c.query<{ id: string }>('SELECT id FROM accounts WHERE parent_id IS NULL');
  const id = r.rows[0]?.id;
  if (!id) throw new Error('no operator account');
  return id;
}

async function createGroups(c: pg.Client, accountId: string): Promise<void> {
  for (const g of GROUP_LAYOUT) {
    await c.query('INSERT INTO groups (id, account_id, name, description) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, name) DO NOTHING', [
      newId('grp'),
      accountId,
      g.name,
      `${groupPercent(g)} % of the benchmark fleet`,
    ]);
  }
}

/** The labels of `labelsFor(serial)` as SQL. */
const LABELS_SQL = (s: string) =>
  `CASE WHEN (${s}) % ${LABEL_SETS.length} = 0 THEN '{}'::text[] ELSE string_to_array((ARRAY[${LABEL_SETS.map((l) => `'${l}'`).join(', ')}])[(${s}) % ${LABEL_SETS.length} + 1], '|') END`;

/** Loads `count` SIMs (serials 1..count) with direct SQL, 50,000 per statement. */
async function loadFleet(c: pg.Client, accountId: string, count: number): Promise<void> {
  const shape = shapeSql('u.s', count, 'now()');
  const st = 'x.st';
  const insertSims = `
    INSERT INTO sims (iccid, account_id, group_id, state, suspend_reason, msisdn, batch, labels, state_due_at, activated_at,
                      state_changed_at, created_at, updated_at)
    SELECT u.iccid, $1, g.id, ${st}, ${shape.suspendReason(st)}, u.msisdn, u.batch, ${LABELS_SQL('u.s')}, ${shape.stateDueAt(st)},
           ${shape.activatedAt(st)}, ${shape.changedAt}, ${shape.createdAt}, ${shape.changedAt}
    FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS u(s, iccid, msisdn, batch)
    CROSS JOIN LATERAL (SELECT ${shape.state} AS st, ${shape.groupName} AS group_name) x
    LEFT JOIN groups g ON g.account_id = $1 AND g.name = x.group_name`;
  const step = 50_000;
  for (let from = 1; from <= count; from += step) {
    const serials = Array.from({ length: Math.min(step, count - from + 1) }, (_, i) => from + i);
    await c.query('BEGIN');
    await c.query(insertSims, [accountId, serials, serials.map((s) => iccidFor(s)), serials.map((s) => msisdnFor(s)), serials.map(batchFor)]);
    await c.query('INSERT INTO sim_profiles (imsi, iccid, position, active) SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::bool[])', [
      serials.map((s) => imsiFor(s)),
      serials.map((s) => iccidFor(s)),
      serials.map(() => 0),
      serials.map(() => true),
    ]);
    await c.query('COMMIT');
    if ((from - 1) % 200_000 === 0) progress(`loaded ${from - 1 + serials.length} SIMs`);
  }
}

/** Gives SIMs imported by bench/import.ts (all in inventory, no group) the fleet's states and groups. */
async function shapeImportedFleet(c: pg.Client, accountId: string, count: number): Promise<void> {
  const shape = shapeSql('v.s', count, 'now()');
  const q = shapeSql('q.s', count, 'now()');
  const st = 'v.st';
  await c.query(
    `UPDATE sims SET state = ${st}, group_id = g.id, suspend_reason = ${shape.suspendReason(st)}, state_due_at = ${shape.stateDueAt(st)},
            activated_at = ${shape.activatedAt(st)}, state_changed_at = ${shape.changedAt}, created_at = ${shape.createdAt},
            updated_at = ${shape.changedAt}
     FROM (SELECT q.iccid, q.s, ${q.state} AS st, ${q.groupName} AS group_name
           FROM (SELECT iccid, substr(iccid, 8, 12)::int AS s FROM sims) q) v
     LEFT JOIN groups g ON g.account_id = $1 AND g.name = v.group_name
     WHERE sims.iccid = v.iccid`,
    [accountId],
  );
}

/** The API benchmark's database with `count` SIMs: reused, copied from the import benchmark's, or loaded with SQL. */
export async function prepareFleet(count: number): Promise<Fleet> {
  const url = databaseUrl(API_DATABASE);
  let origin: string;
  if (process.env.BENCH_FRESH !== '1' && (await databaseNote(API_DATABASE)) === fleetNote(count)) {
    origin = `reused ${API_DATABASE} from an earlier run`;
  } else {
    const fromImport = (await databaseNote(IMPORT_DATABASE)) === importNote(count);
    if (fromImport) {
      progress(`copying ${IMPORT_DATABASE} (left by bench/import.ts) to ${API_DATABASE}`);
      await recreateDatabase(API_DATABASE, IMPORT_DATABASE);
      // Migrations that are newer than the copied database run here.
      const platform = await createPlatform(loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url }));
      await platform.close();
    } else {
      await recreateDatabase(API_DATABASE);
      const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url });
      const platform = await createPlatform(config);
      await bootstrapOperator(platform.services.db, platform.services.auth, {
        ...config.bootstrap,
        adminPassword: 'benchmark-only-password',
        timezone: config.defaultTimezone,
      });
      await platform.close();
    }
    await withClient(url, async (c) => {
      const accountId = await operatorId(c);
      await createGroups(c, accountId);
      const started = performance.now();
      if (fromImport) {
        progress('giving the imported SIMs states and groups (one UPDATE), then VACUUM FULL');
        await shapeImportedFleet(c, accountId, count);
        await c.query('VACUUM (FULL, ANALYZE) sims');
      } else {
        progress(`loading ${count} SIMs with SQL`);
        await loadFleet(c, accountId, count);
      }
      await c.query('VACUUM (ANALYZE)');
      progress(`fleet ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    });
    await setDatabaseNote(API_DATABASE, fleetNote(count));
    origin = fromImport ? `copied from ${IMPORT_DATABASE} (bench/import.ts), states and groups set by SQL` : 'loaded with direct SQL';
  }
  return withClient(url, async (c) => {
    const g = await c.query<{ id: string; name: string }>('SELECT id, name FROM groups WHERE name LIKE $1', ['bench-%']);
    const share = (rows: { k: string | null; n: number }[]) =>
      rows.map((r) => `${r.k ?? 'no group'} ${((100 * r.n) / count).toFixed(1)} %`).join(', ');
    const states = await c.query<{ k: string; n: number }>('SELECT state AS k, count(*)::int AS n FROM sims GROUP BY state ORDER BY n DESC');
    const groups = await c.query<{ k: string | null; n: number }>(
      'SELECT g.name AS k, count(*)::int AS n FROM sims s LEFT JOIN groups g ON g.id = s.group_id GROUP BY g.name ORDER BY n DESC',
    );
    return { url, origin, groups: new Map(g.rows.map((r) => [r.name, r.id])), states: share(states.rows), groupShares: share(groups.rows) };
  });
}
