import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, forbidden, notFound } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { DEFAULT_CURRENCY } from './money.ts';
import * as repo from './top-up-product.repository.ts';
import { checkTopUpProduct, SAMPLE_TOP_UP_PRODUCTS, type TopUpProduct, type TopUpProductInput } from './top-up-product.ts';

export type TopUpProductPatch = Partial<Pick<TopUpProduct, 'name' | 'bytes' | 'validMonths' | 'priceMicros' | 'active'>>;

/**
 * The priced top-up products (加油包) each operator or reseller sells. Visible like plans: from the seller, the
 * accounts below it and above it; only the seller's admins change them. Prices are fixed when an order is placed.
 */
export class TopUpProductService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  listProducts(principal: Principal, filter: { accountId?: string; activeOnly?: boolean; after?: string; limit: number }): Promise<TopUpProduct[]> {
    return repo.listProducts(this.db, principal.accountPath, filter);
  }

  async getProduct(principal: Principal, id: string): Promise<TopUpProduct> {
    const product = await repo.findProduct(this.db, id, principal.accountPath);
    if (!product) throw notFound('top_up_product', id);
    return product;
  }

  /** Creates a product sold by the caller's account. */
  async createProduct(principal: Principal, input: TopUpProductInput): Promise<TopUpProduct> {
    requirePermission(principal, 'plans:write');
    const now = this.clock.now();
    const product: TopUpProduct = { ...input, currency: input.currency ?? DEFAULT_CURRENCY, accountId: principal.accountId, active: true, createdAt: now, updatedAt: now };
    checkTopUpProduct(product);
    if (await repo.productExists(this.db, product.id)) throw productExists(product.id);
    try {
      await repo.insertProducts(this.db, [product]);
    } catch (e) {
      if (isUniqueViolation(e)) throw productExists(product.id);
      throw e;
    }
    return product;
  }

  /** Changes a product's terms or takes it off sale (`active: false`); orders already placed keep their price. */
  async updateProduct(principal: Principal, id: string, patch: TopUpProductPatch): Promise<TopUpProduct> {
    requirePermission(principal, 'plans:write');
    const current = await this.getProduct(principal, id);
    if (current.accountId !== principal.accountId) {
      throw forbidden(`top-up product ${id} belongs to account ${current.accountId}; only that account's admins change it`);
    }
    const next: TopUpProduct = { ...current, ...patch, updatedAt: this.clock.now() };
    checkTopUpProduct(next);
    await repo.updateProduct(this.db, next);
    return next;
  }

  /** Adds the sample products to the caller's account; products whose id exists are kept. Returns created and kept. */
  async loadSample(accountId: string): Promise<{ created: number; kept: number }> {
    const now = this.clock.now();
    const existing = await repo.existingProductIds(this.db, SAMPLE_TOP_UP_PRODUCTS.map((p) => p.id));
    const fresh = SAMPLE_TOP_UP_PRODUCTS.filter((p) => !existing.has(p.id)).map((p) => ({ ...p, accountId, active: true, createdAt: now, updatedAt: now }));
    await repo.insertProducts(this.db, fresh);
    return { created: fresh.length, kept: existing.size };
  }
}

const productExists = (id: string) => conflict('top_up_product_exists', `a top-up product with id ${id} already exists; choose another id`);
