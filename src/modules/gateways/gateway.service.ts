import { sql } from 'kysely';
import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { checkCoaPort, checkSecret, DEFAULT_COA_PORT, type Gateway, parseAttributeRef, parseGatewayAddress } from './gateway.ts';
import * as repo from './gateway.repository.ts';

export interface GatewayInput {
  name: string;
  address: string;
  secret: string;
  coaPort?: number;
  /** `attr:N` or `vsa:VENDOR:TYPE`: where the gateway reports the destination class; null: it does not. */
  destinationClassAttribute?: string | null;
}

export type GatewayPatch = Partial<GatewayInput>;

/** What changed in the gateway table; listeners reload their copy. */
export interface GatewayChange {
  kind: 'created' | 'updated' | 'deleted';
  gateway: Gateway;
}

export type GatewayListener = (change: GatewayChange) => void;

function canonicalAddress(address: string): string {
  const parsed = parseGatewayAddress(address);
  if (!parsed.ok) throw invalid(parsed.code, parsed.message);
  return parsed.block.canonical;
}

function check(result: { ok: true } | { ok: false; code: string; message: string }): void {
  if (!result.ok) throw invalid(result.code, result.message);
}

/** Network gateways (RADIUS clients) registered by the operator; the RADIUS server reads them all through `listAllGateways`. */
export class GatewayService {
  private readonly listeners: GatewayListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async getGateway(principal: Principal, id: string): Promise<Gateway> {
    const gateway = await repo.findGateway(this.db, id, principal.accountPath);
    if (!gateway) throw notFound('gateway', id);
    return gateway;
  }

  listGateways(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<Gateway[]> {
    return repo.listGateways(this.db, principal.accountPath, filter);
  }

  /** Every gateway of every account, secrets included, without tenancy scope: for the RADIUS server only. */
  listAllGateways(): Promise<Gateway[]> {
    return repo.listAllGateways(this.db);
  }

  /**
   * Calls `listener` after each gateway is created, updated or deleted, once the change is committed; returns an
   * unsubscribe function. Listeners run synchronously in the request and must not throw: start a reload, handle its errors.
   */
  onGatewaysChanged(listener: GatewayListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at !== -1) this.listeners.splice(at, 1);
    };
  }

  async createGateway(principal: Principal, input: GatewayInput): Promise<Gateway> {
    requirePermission(principal, 'system:write');
    const address = canonicalAddress(input.address);
    check(checkSecret(input.secret));
    const coaPort = input.coaPort ?? DEFAULT_COA_PORT;
    check(checkCoaPort(coaPort));
    if (input.destinationClassAttribute !== undefined && input.destinationClassAttribute !== null) check(parseAttributeRef(input.destinationClassAttribute));
    const now = this.clock.now();
    const gateway = await this.db.transaction().execute(async (trx) => {
      await this.lockGatewayTable(trx);
      await this.refuseTakenAddress(trx, address);
      return repo.insertGateway(trx, {
        id: newId('gw'),
        accountId: principal.accountId,
        name: input.name,
        address,
        secret: input.secret,
        coaPort,
        destinationClassAttribute: input.destinationClassAttribute ?? null,
        createdAt: now,
        updatedAt: now,
      });
    });
    this.notify({ kind: 'created', gateway });
    return gateway;
  }

  async updateGateway(principal: Principal, id: string, patch: GatewayPatch): Promise<Gateway> {
    requirePermission(principal, 'system:write');
    const address = patch.address === undefined ? undefined : canonicalAddress(patch.address);
    if (patch.secret !== undefined) check(checkSecret(patch.secret));
    if (patch.coaPort !== undefined) check(checkCoaPort(patch.coaPort));
    if (patch.destinationClassAttribute !== undefined && patch.destinationClassAttribute !== null) check(parseAttributeRef(patch.destinationClassAttribute));
    await this.getGateway(principal, id);
    const gateway = await this.db.transaction().execute(async (trx) => {
      await this.lockGatewayTable(trx);
      if (address !== undefined) await this.refuseTakenAddress(trx, address, id);
      return repo.updateGateway(trx, id, { name: patch.name, address, secret: patch.secret, coaPort: patch.coaPort, destinationClassAttribute: patch.destinationClassAttribute, updatedAt: this.clock.now() });
    });
    this.notify({ kind: 'updated', gateway });
    return gateway;
  }

  async deleteGateway(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'system:write');
    const gateway = await this.getGateway(principal, id);
    await repo.deleteGateway(this.db, id);
    this.notify({ kind: 'deleted', gateway });
  }

  // NOTE: gateway writes are rare; one transaction-scoped advisory lock serialises them so that two requests
  // cannot register the same address at once (the RADIUS server could not tell their packets apart).
  private async lockGatewayTable(trx: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtext('meridian.gateways'))`.execute(trx);
  }

  private async refuseTakenAddress(db: Executor, address: string, exceptId?: string): Promise<void> {
    const holder = (await repo.findGatewaysByAddress(db, address)).find((g) => g.id !== exceptId);
    if (holder) {
      throw conflict('gateway_address_in_use', `address ${address} is already registered for gateway ${holder.id} (${holder.name})`, {
        gatewayId: holder.id,
      });
    }
  }

  private notify(change: GatewayChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
