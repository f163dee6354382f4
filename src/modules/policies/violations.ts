import type { Db, Executor } from '../../db/database.ts';
import type { AlertService } from '../alerts/alert.service.ts';
import type { AlertSeverity } from '../alerts/alert.ts';
import { insertChangeRecords } from '../changes/change-record.repository.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { ChangeSource } from '../sims/sim.ts';
import type { ViolationKind } from './policy.ts';
import { insertViolations, type NewViolation } from './policy.repository.ts';

/** How urgent each kind of violation is, as alerted. */
export const VIOLATION_SEVERITY: Record<ViolationKind, AlertSeverity> = {
  imei_mismatch: 'critical',
  imei_blacklisted: 'critical',
  high_risk_area: 'critical',
  directed_breakout: 'critical',
  out_of_region: 'warning',
  apn_not_allowed: 'warning',
  abnormal_traffic: 'warning',
  data_limit: 'info',
};

/**
 * Records policy violations, each once per key, and raises an alert (type = the violation kind, subject the SIM) for
 * each one recorded now, in one transaction. Returns those recorded now.
 */
export async function recordViolations(db: Db, alerts: Pick<AlertService, 'raise'>, list: NewViolation[]): Promise<NewViolation[]> {
  return db.transaction().execute(async (trx) => {
    const recorded = await insertViolations(trx, list);
    const at = recorded[0]?.occurredAt;
    if (at) {
      await alerts.raise(
        trx,
        recorded.map((v) => ({ accountId: v.accountId, type: v.kind, severity: VIOLATION_SEVERITY[v.kind], subject: { kind: 'sim' as const, id: v.iccid }, message: v.message, data: v.data })),
        at,
      );
    }
    return recorded;
  });
}

/** One completed change of a SIM's policy field, with its `sim.updated` event, in the caller's transaction. */
export async function recordSimChange(
  db: Executor,
  c: { accountId: string; iccid: string; field: string; oldValue: string | null; newValue: string | null; source: ChangeSource; actor: string; reason: string | null },
  at: Date,
): Promise<void> {
  await insertChangeRecords(db, [{ ...c, status: 'completed', jobId: null, createdAt: at, completedAt: at }]);
  await publishEvents(
    db,
    [
      {
        type: 'sim.updated',
        accountId: c.accountId,
        subject: { kind: 'sim', id: c.iccid },
        data: { iccid: c.iccid, changes: [{ field: c.field, oldValue: c.oldValue, newValue: c.newValue }], reason: c.reason, source: c.source, actor: c.actor, jobId: null },
      },
    ],
    at,
  );
}
