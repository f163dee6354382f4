import type { SimState } from '../sims/sim.ts';

/** What the network side (HLR/HSS or a carrier API) is asked to do for one state change. */
export interface ProvisioningRequest {
  /** Change record id: the same request retried carries the same id. */
  requestId: string;
  iccid: string;
  imsi: string | null;
  msisdn: string | null;
  from: SimState;
  to: SimState;
  reason: string | null;
}

/** The port to the network. `provision` resolves when the network accepted the change and throws when it did not. */
export interface ProvisioningAdapter {
  readonly name: string;
  provision(request: ProvisioningRequest): Promise<void>;
}

export class ProvisioningError extends Error {
  override name = 'ProvisioningError';
}
