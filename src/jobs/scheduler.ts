import type { Logger } from 'pino';

/** One periodic piece of work; returns how many things it did (for the log). */
export interface PeriodicTask {
  name: string;
  run(): Promise<number>;
}

/**
 * Runs periodic tasks (automatic lifecycle transitions, housekeeping) one pass at a time. Durable by
 * construction: what is due lives in the database (e.g. `sims.state_due_at`), so a restart loses nothing
 * and the next pass catches up.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly tasks: PeriodicTask[],
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** One pass over every task; overlapping calls share the running pass. */
  tick(): Promise<void> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<void> {
    for (const task of this.tasks) {
      try {
        const count = await task.run();
        if (count > 0) this.log.info({ task: task.name, count }, 'scheduled task did work');
      } catch (err) {
        this.log.error({ err, task: task.name }, 'scheduled task failed');
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
