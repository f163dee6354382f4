import { type Kysely, sql } from 'kysely';

/** Runs a block of DDL one statement at a time (PGlite's extended protocol takes one per query). */
export async function runStatements(db: Kysely<unknown>, block: string): Promise<void> {
  for (const statement of block.split(/;\s*\n/)) {
    if (statement.trim()) await sql.raw(statement).execute(db);
  }
}
