import { type Selectable, sql } from 'kysely';
import type { Executor, TopUpProductTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { TopUpProduct } from './top-up-product.ts';

const toProduct = (r: Selectable<TopUpProductTable>): TopUpProduct => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  bytes: Number(r.bytes),
  validMonths: r.valid_months,
  priceMicros: Number(r.price_micros),
  currency: r.currency,
  active: r.active,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Products visible from the account at `path`: its own, those of the accounts above it and below it (like plans). */
function visibleProducts(db: Executor, path: string) {
  const above = path.split('/').filter(Boolean);
  return db
    .selectFrom('top_up_products')
    .where((eb) => eb.or([eb('top_up_products.account_id', '=', sql<string>`any(${above}::text[])`), eb('top_up_products.account_id', 'in', accountIdsUnder(db, path))]));
}

export async function findProduct(db: Executor, id: string, path: string): Promise<TopUpProduct | undefined> {
  const row = await visibleProducts(db, path).selectAll().where('id', '=', id).executeTakeFirst();
  return row && toProduct(row);
}

/** A product sold by the account at `path` or an account above it: what a SIM of that account can be topped up with. */
export async function findProductFor(db: Executor, id: string, simAccountPath: string): Promise<TopUpProduct | undefined> {
  const above = simAccountPath.split('/').filter(Boolean);
  const row = await db.selectFrom('top_up_products').selectAll().where('id', '=', id).where('account_id', '=', sql<string>`any(${above}::text[])`).executeTakeFirst();
  return row && toProduct(row);
}

export async function listProducts(db: Executor, path: string, filter: { accountId?: string; activeOnly?: boolean; after?: string; limit: number }): Promise<TopUpProduct[]> {
  let q = visibleProducts(db, path).selectAll();
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.activeOnly) q = q.where('active', '=', true);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toProduct);
}

export async function productExists(db: Executor, id: string): Promise<boolean> {
  return (await db.selectFrom('top_up_products').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function existingProductIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('top_up_products').select('id').where('id', '=', sql<string>`any(${ids}::text[])`).execute();
  return new Set(rows.map((r) => r.id));
}

export async function insertProducts(db: Executor, products: readonly TopUpProduct[]): Promise<void> {
  if (products.length === 0) return;
  await db
    .insertInto('top_up_products')
    .values(
      products.map((p) => ({
        id: p.id,
        account_id: p.accountId,
        name: p.name,
        bytes: p.bytes,
        valid_months: p.validMonths,
        price_micros: p.priceMicros,
        currency: p.currency,
        active: p.active,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })),
    )
    .execute();
}

export async function updateProduct(db: Executor, p: TopUpProduct): Promise<void> {
  await db
    .updateTable('top_up_products')
    .set({ name: p.name, bytes: p.bytes, valid_months: p.validMonths, price_micros: p.priceMicros, active: p.active, updated_at: p.updatedAt })
    .where('id', '=', p.id)
    .execute();
}
