import type { Logger } from 'pino';
import type { LifecycleService } from '../modules/sims/lifecycle.service.ts';

/**
 * Takes the automatic lifecycle transitions when they fall due. Durable by construction: the due time
 * is stored on each SIM (`state_due_at`), so a restart loses nothing; the next tick catches up.
 */
export class LifecycleScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** One pass over due SIMs; overlapping calls share the running pass. */
  tick(): Promise<void> {
    this.running ??= this.lifecycle
      .runDueTransitions()
      .then((moved) => {
        if (moved > 0) this.log.info({ moved }, 'automatic lifecycle transitions taken');
      })
      .catch((err: unknown) => this.log.error({ err }, 'lifecycle scheduler pass failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
