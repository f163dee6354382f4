import { setTimeout as sleep } from 'node:timers/promises';
import { type ProvisioningAdapter, ProvisioningError, type ProvisioningRequest } from './provisioning.ts';

export interface SimulatorBehaviour {
  /** Delay before each answer. */
  delayMs: number;
  /** Share of requests that fail at random, 0..1. */
  failureRate: number;
  /** ICCIDs whose requests always fail. */
  failIccids: string[];
}

/** A built-in stand-in for the network: accepts every change unless told to fail or be slow. */
export class SimulatedProvisioningAdapter implements ProvisioningAdapter {
  readonly name = 'simulated';
  private behaviour: SimulatorBehaviour;
  /** Requests seen, newest last (bounded), for operators and tests to inspect. */
  readonly log: ProvisioningRequest[] = [];

  constructor(initial: Partial<SimulatorBehaviour> = {}, private readonly random: () => number = Math.random) {
    this.behaviour = { delayMs: 0, failureRate: 0, failIccids: [], ...initial };
  }

  getBehaviour(): SimulatorBehaviour {
    return { ...this.behaviour, failIccids: [...this.behaviour.failIccids] };
  }

  setBehaviour(patch: Partial<SimulatorBehaviour>): SimulatorBehaviour {
    this.behaviour = { ...this.behaviour, ...patch };
    return this.getBehaviour();
  }

  async provision(request: ProvisioningRequest): Promise<void> {
    const { delayMs, failureRate, failIccids } = this.behaviour;
    if (delayMs > 0) await sleep(delayMs);
    this.log.push(request);
    if (this.log.length > 10_000) this.log.splice(0, this.log.length - 10_000);
    if (failIccids.includes(request.iccid)) throw new ProvisioningError(`simulated network rejected ${request.iccid}`);
    if (failureRate > 0 && this.random() < failureRate) throw new ProvisioningError('simulated network failure');
  }
}
