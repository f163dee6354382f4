import type { Selectable } from 'kysely';
import type { Executor, GatewayTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { Gateway } from './gateway.ts';

const toGateway = (r: Selectable<GatewayTable>): Gateway => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  address: r.address,
  secret: r.secret,
  coaPort: r.coa_port,
  destinationClassAttribute: r.destination_class_attribute,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertGateway(db: Executor, g: Gateway): Promise<Gateway> {
  const row = await db
    .insertInto('gateways')
    .values({
      id: g.id,
      account_id: g.accountId,
      name: g.name,
      address: g.address,
      secret: g.secret,
      coa_port: g.coaPort,
      destination_class_attribute: g.destinationClassAttribute,
      created_at: g.createdAt,
      updated_at: g.updatedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGateway(row);
}

/** The gateway with this id if its account lies under `scopePath`. */
export async function findGateway(db: Executor, id: string, scopePath: string): Promise<Gateway | undefined> {
  const row = await db
    .selectFrom('gateways')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', 'in', accountIdsUnder(db, scopePath))
    .executeTakeFirst();
  return row && toGateway(row);
}

export async function listGateways(
  db: Executor,
  scopePath: string,
  filter: { accountId?: string; after?: string; limit: number },
): Promise<Gateway[]> {
  let q = db.selectFrom('gateways').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toGateway);
}

/** Every gateway of every account, in id order (the RADIUS server's client table). */
export async function listAllGateways(db: Executor): Promise<Gateway[]> {
  return (await db.selectFrom('gateways').selectAll().orderBy('id').execute()).map(toGateway);
}

/** Gateways with exactly this canonical address (there should be at most one). */
export async function findGatewaysByAddress(db: Executor, address: string): Promise<Gateway[]> {
  return (await db.selectFrom('gateways').selectAll().where('address', '=', address).execute()).map(toGateway);
}

export async function updateGateway(
  db: Executor,
  id: string,
  patch: { name?: string; address?: string; secret?: string; coaPort?: number; destinationClassAttribute?: string | null; updatedAt: Date },
): Promise<Gateway> {
  const row = await db
    .updateTable('gateways')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.address !== undefined ? { address: patch.address } : {}),
      ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
      ...(patch.coaPort !== undefined ? { coa_port: patch.coaPort } : {}),
      ...(patch.destinationClassAttribute !== undefined ? { destination_class_attribute: patch.destinationClassAttribute } : {}),
      updated_at: patch.updatedAt,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGateway(row);
}

export async function deleteGateway(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('gateways').where('id', '=', id).execute();
}
