import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Principal } from '../modules/accounts/account.ts';
import type { CdrService } from '../modules/usage/cdr.service.ts';
import { AppError } from '../shared/errors.ts';

/**
 * A drop folder for CDR files: each `*.csv` placed in it becomes a CDR import job (the job keeps the content),
 * then moves to `imported/`, or to `rejected/` beside a `.error.txt` saying why. A file seen again after a crash
 * is imported again, and its record ids make that add nothing.
 */
export class CdrDropFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly dir: string,
    private readonly cdr: CdrService,
    private readonly principal: () => Promise<Principal>,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    await mkdir(join(this.dir, 'imported'), { recursive: true });
    await mkdir(join(this.dir, 'rejected'), { recursive: true });
    this.timer = setInterval(() => void this.scan(), this.intervalMs);
    this.timer.unref();
    void this.scan();
  }

  /** Takes every CSV file now in the folder; returns how many were queued. */
  scan(): Promise<number> {
    this.running ??= this.scanOnce()
      .catch((err: unknown) => {
        this.log.error({ err, dir: this.dir }, 'CDR drop folder scan failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async scanOnce(): Promise<number> {
    const files = (await readdir(this.dir, { withFileTypes: true })).filter((f) => f.isFile() && f.name.toLowerCase().endsWith('.csv'));
    let queued = 0;
    for (const f of files.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(this.dir, f.name);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      try {
        const job = await this.cdr.startImport(await this.principal(), await readFile(path, 'utf8'), { source: f.name });
        await rename(path, join(this.dir, 'imported', `${stamp}-${f.name}`));
        this.log.info({ file: f.name, jobId: job.id }, 'CDR file queued');
        queued++;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        await rename(path, join(this.dir, 'rejected', `${stamp}-${f.name}`));
        await writeFile(join(this.dir, 'rejected', `${stamp}-${f.name}.error.txt`), `${err.code}: ${err.message}\n`);
        this.log.warn({ file: f.name, code: err.code }, 'CDR file rejected');
      }
    }
    return queued;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
