import type { Db } from '../../db/database.ts';
import { insertViolations, type NewViolation } from './policy.repository.ts';

/** Records policy violations, each once per key, in one transaction; returns those recorded now (the new alerts). */
export async function recordViolations(db: Db, list: NewViolation[]): Promise<NewViolation[]> {
  return db.transaction().execute((trx) => insertViolations(trx, list));
}
