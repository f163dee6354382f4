/** Live pool balances (流量池): what the pooled plans of an account hold in the current cycle. */
import type { Clock } from '../../shared/clock.ts';
import type { Principal } from '../accounts/account.ts';
import type { AccountService } from '../accounts/account.service.ts';

/** One pool of an account in a cycle, as the usage engine rates against it now. */
export interface LivePool {
  planId: string;
  /** `YYYY-MM` in the account's time zone. */
  cycle: string;
  /** SIMs counted for the pool now (members that left during the cycle are not counted, what they brought stays). */
  members: number;
  sizeBytes: number;
  remainingBytes: number;
}

/** Where the live pools come from: the usage engine's rating state. */
export interface PoolReader {
  poolsOf(accountId: string, timezone: string, at: Date): LivePool[];
}

export class PoolService {
  constructor(
    private readonly accounts: AccountService,
    private readonly reader: PoolReader,
    private readonly clock: Clock,
  ) {}

  /** The live pools of an account the caller can see, in the account's current cycle. */
  async listPools(principal: Principal, accountId: string): Promise<LivePool[]> {
    const account = await this.accounts.getAccount(principal, accountId);
    return this.reader.poolsOf(account.id, account.timezone, this.clock.now());
  }
}
