import type { Logger } from 'pino';

/** One kind of queued message to send: returns how many it tried in the pass (0 when nothing was due). */
export type SendPass = () => Promise<number>;

/** Runs one pass over and over while it finds work; a wake during a pass asks for one more. */
class PassLoop {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly pass: SendPass,
    private readonly log: Logger,
    private readonly stopped: () => boolean,
  ) {}

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle().finally(() => {
      this.running = undefined;
    });
  }

  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runUntilIdle(): Promise<void> {
    do {
      this.again = false;
      try {
        if ((await this.pass()) > 0) this.again = true;
      } catch (err) {
        this.log.error({ err }, 'notification sending pass failed');
      }
    } while (this.again && !this.stopped());
  }
}

/**
 * Sends queued e-mails and SMS from the database queue, each kind in its own loop (a slow SMTP server does not hold
 * SMS back). Wakes when a message is queued or the SMSC link binds, and polls; what is due lives in the database,
 * so a restart loses nothing.
 */
export class NotificationSender {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly loops: PassLoop[];

  constructor(
    passes: SendPass[],
    log: Logger,
    private readonly pollMs: number,
  ) {
    this.loops = passes.map((p) => new PassLoop(p, log, () => this.stopped));
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Starts a pass of every loop, or asks a running one to go round once more. */
  wake(): void {
    if (this.stopped) return;
    for (const loop of this.loops) loop.wake();
  }

  /** Resolves when the running passes (and those they were asked for) have finished. */
  async settle(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.settle()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.settle();
  }
}
