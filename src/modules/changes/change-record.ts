import type { ChangeSource } from '../sims/sim.ts';

export const CHANGE_STATUSES = ['pending', 'completed', 'failed'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

/** One change to one field of one SIM (异动记录). */
export interface ChangeRecord {
  id: number;
  accountId: string;
  iccid: string;
  field: string;
  oldValue: string | null;
  newValue: string | null;
  source: ChangeSource;
  actor: string | null;
  reason: string | null;
  status: ChangeStatus;
  error: string | null;
  jobId: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export type NewChangeRecord = Omit<ChangeRecord, 'id' | 'completedAt' | 'error'> & { error?: string | null; completedAt?: Date | null };
