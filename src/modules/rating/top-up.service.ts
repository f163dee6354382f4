/** Top-ups (加油包): extra data for one SIM, valid to the end of the current cycle or for N months. */
import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, invalid } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import { topUpExpiresAt } from './billing-cycle.ts';
import type { TopUpProductService } from './top-up-product.service.ts';

export interface TopUpRecord {
  id: string;
  accountId: string;
  iccid: string;
  bytes: number;
  expiresAt: Date;
  createdBy: string | null;
  createdAt: Date;
  /** A priced top-up: its product and price; `orderId` when an order paid for it (else it is charged on the bill). */
  productId: string | null;
  priceMicros: number | null;
  currency: string | null;
  orderId: string | null;
}

/** What a priced top-up costs and who paid for it. */
export interface TopUpPrice {
  productId: string;
  priceMicros: number;
  currency: string;
  orderId: string | null;
}

/** Most data one top-up may add: 10 TiB. */
export const MAX_TOP_UP_BYTES = 10 * 1024 ** 4;

function checkTopUpBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > MAX_TOP_UP_BYTES) {
    throw invalid('invalid_top_up', `bytes must be a whole number from 1 to ${MAX_TOP_UP_BYTES} (got ${bytes})`);
  }
}

export class TopUpService {
  private readonly listeners: ((t: TopUpRecord) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sims: SimService,
    private readonly products?: TopUpProductService,
  ) {}

  /** Calls `listener` after each top-up is stored (the usage engine adds it to the SIM's balance). */
  onTopUp(listener: (t: TopUpRecord) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Adds `bytes` to a SIM that is on a plan. Valid to the end of the current billing cycle (the calendar month in the
   * account's time zone), or for `validMonths` months counting the current one.
   */
  async addTopUp(principal: Principal, iccid: string, input: { bytes?: number; validMonths?: number; productId?: string }): Promise<TopUpRecord> {
    requirePermission(principal, 'plans:write');
    let bytes = input.bytes;
    let validMonths = input.validMonths;
    let price: TopUpPrice | undefined;
    if (input.productId !== undefined) {
      if (bytes !== undefined || validMonths !== undefined) throw invalid('invalid_top_up', 'give either a productId (its data, validity and price) or bytes and validMonths, not both');
      if (!this.products) throw invalid('invalid_top_up', 'priced top-ups are not available');
      const product = await this.products.getProduct(principal, input.productId);
      if (!product.active) throw conflict('top_up_product_inactive', `top-up product ${product.id} is inactive and cannot be added`);
      ({ bytes, validMonths } = product);
      price = { productId: product.id, priceMicros: product.priceMicros, currency: product.currency, orderId: null };
    }
    if (bytes === undefined) throw invalid('invalid_top_up', 'give bytes (and validMonths), or the productId of a priced top-up product');
    checkTopUpBytes(bytes);
    const sim = await this.sims.getSimRow(principal, iccid);
    if (!sim.plan_id) throw invalid('sim_has_no_plan', `SIM ${iccid} is on no rate plan: put it on a plan before adding data to it`);
    const record = await this.recordTopUp(this.db, { id: newId('top'), accountId: sim.account_id, iccid, bytes, validMonths, actor: principal.actor, price });
    this.announce(record);
    return record;
  }

  /**
   * Stores a top-up with the given id in `db` (a transaction the caller commits) and returns it; the caller then calls
   * `announce` after the commit so the balance in memory gets it. Used by order fulfilment.
   */
  async recordTopUp(
    db: Executor,
    input: { id: string; accountId: string; iccid: string; bytes: number; validMonths?: number | undefined; actor: string | null; price?: TopUpPrice | undefined },
  ): Promise<TopUpRecord> {
    checkTopUpBytes(input.bytes);
    const account = await db.selectFrom('accounts').select('timezone').where('id', '=', input.accountId).executeTakeFirstOrThrow();
    const now = this.clock.now();
    const record: TopUpRecord = {
      id: input.id,
      accountId: input.accountId,
      iccid: input.iccid,
      bytes: input.bytes,
      expiresAt: topUpExpiresAt(now, input.validMonths ?? 1, account.timezone),
      createdBy: input.actor,
      createdAt: now,
      productId: input.price?.productId ?? null,
      priceMicros: input.price?.priceMicros ?? null,
      currency: input.price?.currency ?? null,
      orderId: input.price?.orderId ?? null,
    };
    await db
      .insertInto('top_ups')
      .values({
        id: record.id,
        account_id: record.accountId,
        iccid: record.iccid,
        bytes: record.bytes,
        expires_at: record.expiresAt,
        created_by: record.createdBy,
        created_at: now,
        product_id: record.productId,
        price_micros: record.priceMicros,
        currency: record.currency,
        order_id: record.orderId,
      })
      .execute();
    return record;
  }

  /** Hands a committed top-up to the listeners (the usage engine adds it to the balance and lifts a quota suspension). */
  announce(record: TopUpRecord): void {
    for (const l of this.listeners) l(record);
  }

  /** The top-ups of a SIM, newest first. */
  async listTopUps(principal: Principal, iccid: string): Promise<TopUpRecord[]> {
    await this.sims.getSimRow(principal, iccid);
    const rows = await this.db.selectFrom('top_ups').selectAll().where('iccid', '=', iccid).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(500).execute();
    return rows.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      iccid: r.iccid,
      bytes: Number(r.bytes),
      expiresAt: r.expires_at,
      createdBy: r.created_by,
      createdAt: r.created_at,
      productId: r.product_id,
      priceMicros: r.price_micros === null ? null : Number(r.price_micros),
      currency: r.currency,
      orderId: r.order_id,
    }));
  }
}
