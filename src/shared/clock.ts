/** The one source of "now" for all time-driven behaviour, so tests and simulators can move time. */
export interface Clock {
  /** The current time. Callers never change the `Date` they get: it may be shared. */
  now(): Date;
}

let lastNow = new Date();

/**
 * The system's time, one `Date` per millisecond: under load many packets arrive within one, and each keeps "now" as
 * its session's last-seen time until the session's next packet, long enough to become old-generation garbage.
 */
export const systemClock: Clock = {
  now: () => {
    const ms = Date.now();
    if (ms !== lastNow.getTime()) lastNow = new Date(ms);
    return lastNow;
  },
};

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = new Date()) {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
  advance(milliseconds: number): Date {
    this.current += milliseconds;
    return this.now();
  }
}

export const DAY_MS = 86_400_000;

export const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);
