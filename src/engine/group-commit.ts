/** Raised when the commit queue is full: the caller does not answer, so the gateway retransmits later. */
export class Backpressure extends Error {
  override name = 'Backpressure';
}

export interface GroupCommitOptions {
  /** Most items written in one transaction. */
  maxBatch: number;
  /** Most items waiting; beyond it `submit` refuses at once. */
  maxQueue: number;
  /**
   * Under load, a transaction starts at least this long after the previous one started (unless a full batch is
   * waiting), so that each carries more items: the database's cost per transaction is paid less often, for a wait of
   * at most this long. 0: the next transaction starts as soon as the previous one is durable.
   */
  minIntervalMs?: number;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: items submitted while a transaction is being written wait and go together in the next one.
 * A submitter's promise resolves only once its item is durable. If a write fails, that batch and everything
 * queued behind it (which may build on it) are rejected and handed to `onFailure` to undo in-memory effects.
 */
export class GroupCommit<T> {
  private queue: Waiting<T>[] = [];
  private flushing: Promise<void> | undefined;
  /** When the last transaction started (performance.now()). */
  private lastStart = -Infinity;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
    private readonly onFailure: (items: T[], error: unknown) => Promise<void> | void,
    private readonly onBatch?: (size: number, ms: number) => void,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** True when `submit` would refuse: callers check before changing anything in memory. */
  get full(): boolean {
    return this.queue.length >= this.options.maxQueue;
  }

  submit(item: T): Promise<void> {
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new Backpressure('commit queue full'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length) this.schedule();
    });
  }

  private async flushLoop(): Promise<void> {
    // NOTE: wait for the current I/O turn to end so that packets read together are written together.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length) {
      await this.paced();
      const batch = this.queue.splice(0, this.options.maxBatch);
      const started = performance.now();
      this.lastStart = started;
      try {
        await this.write(batch.map((w) => w.item));
      } catch (error) {
        const dropped = [...batch, ...this.queue.splice(0)];
        await this.onFailure(
          dropped.map((w) => w.item),
          error,
        );
        for (const w of dropped) w.reject(error);
        return;
      }
      this.onBatch?.(batch.length, performance.now() - started);
      for (const w of batch) w.resolve();
    }
  }

  /** Waits until `minIntervalMs` after the last transaction started, unless a full batch is waiting. */
  private paced(): Promise<void> | undefined {
    const wait = this.lastStart + (this.options.minIntervalMs ?? 0) - performance.now();
    if (wait <= 0 || this.queue.length >= this.options.maxBatch) return undefined;
    return new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Writes what is queued and waits for it. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length) await this.flushing;
  }
}
