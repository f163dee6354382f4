import type { Db } from '../../db/database.ts';
import { invalid, notFound } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import { decodeSessionCursor, encodeSessionCursor, type Session, type SessionFilter, type SessionStatus } from './session.ts';
import * as repo from './session.repository.ts';

export interface SessionQuery {
  status?: SessionStatus[];
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

export interface SessionPage {
  items: Session[];
  nextCursor: string | null;
}

/** Read side of data sessions: the live or last session of a SIM and session history. Written by the RADIUS server. */
export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly sims: SimService,
    private readonly groups: GroupService,
  ) {}

  /** The current session of a SIM, or its last one when it is not connected; `session_not_found` when it never had one. */
  async getCurrentSession(principal: Principal, iccid: string): Promise<Session> {
    await this.sims.getSimRow(principal, iccid);
    const session = await repo.findLatestSession(this.db, iccid, principal.accountPath);
    if (!session) throw notFound('session', `of SIM ${iccid}`);
    return session;
  }

  /** Sessions of one SIM, newest first. */
  async listSimSessions(principal: Principal, iccid: string, query: SessionQuery): Promise<SessionPage> {
    await this.sims.getSimRow(principal, iccid);
    return this.page(principal, { iccid, status: query.status, from: query.from, to: query.to }, query);
  }

  /** Sessions of a group's SIMs, or of every SIM the caller sees, newest first. */
  async listSessions(principal: Principal, query: SessionQuery & { groupId?: string }): Promise<SessionPage> {
    if (query.groupId !== undefined) await this.groups.getGroup(principal, query.groupId);
    return this.page(principal, { groupId: query.groupId, status: query.status, from: query.from, to: query.to }, query);
  }

  private async page(principal: Principal, filter: SessionFilter, query: SessionQuery): Promise<SessionPage> {
    if (filter.from && filter.to && filter.from >= filter.to) {
      throw invalid('invalid_time_range', `from (${filter.from.toISOString()}) must be before to (${filter.to.toISOString()})`);
    }
    let before;
    if (query.cursor !== undefined) {
      before = decodeSessionCursor(query.cursor) ?? undefined;
      if (!before) throw invalid('invalid_cursor', 'cursor is not one this API returned; start again without it');
    }
    const rows = await repo.listSessions(this.db, principal.accountPath, filter, { before, limit: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeSessionCursor(last) : null };
  }
}
