import type { Executor } from '../../db/database.ts';

export interface StoredResponse {
  requestHash: string;
  statusCode: number | null;
  body: string | null;
}

/** Claims a key for a principal; returns undefined when claimed now, or what was stored before. */
export async function claimKey(db: Executor, principal: string, key: string, requestHash: string, now: Date): Promise<StoredResponse | undefined> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ principal, key, request_hash: requestHash, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return undefined;
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body'])
    .where('principal', '=', principal)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  return { requestHash: row.request_hash, statusCode: row.status_code, body: row.response_body };
}

export async function storeResponse(db: Executor, principal: string, key: string, statusCode: number, body: string): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, response_body: body })
    .where('principal', '=', principal)
    .where('key', '=', key)
    .execute();
}

export async function releaseKey(db: Executor, principal: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('principal', '=', principal).where('key', '=', key).execute();
}

/** Forgets keys older than the retention period; returns how many. */
export async function pruneKeys(db: Executor, olderThan: Date): Promise<number> {
  const res = await db.deleteFrom('idempotency_keys').where('created_at', '<', olderThan).executeTakeFirst();
  return Number(res.numDeletedRows);
}
