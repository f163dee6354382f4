import type { SimState, SuspendReason } from '../sims/sim.ts';

export type AccessDecision = { accept: true } | { accept: false; reason: string };

/** Whether a SIM may open a data session (RADIUS Access-Request), and the reason told to the gateway when not. */
export function accessDecision(sim: { state: SimState; suspendReason: SuspendReason | null } | undefined): AccessDecision {
  if (!sim) return { accept: false, reason: 'unknown SIM' };
  switch (sim.state) {
    case 'test':
    case 'silent':
    case 'active':
      return { accept: true };
    case 'inventory':
      return { accept: false, reason: 'SIM not activated (inventory)' };
    case 'suspended':
      return { accept: false, reason: `SIM suspended (${sim.suspendReason ?? 'user'})` };
    case 'deactivated':
      return { accept: false, reason: 'SIM deactivated' };
    case 'retired':
      return { accept: false, reason: 'SIM retired' };
  }
}
