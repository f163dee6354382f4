import type { Migration, MigrationProvider } from 'kysely/migration';
import * as core from './0001-core.ts';
import * as usage from './0002-usage.ts';
import * as simListIndexes from './0003-sim-list-indexes.ts';
import * as simsFillfactor from './0004-sims-fillfactor.ts';
import * as usageHourlyFillfactor from './0005-usage-hourly-fillfactor.ts';
import * as rating from './0006-rating.ts';
import * as topUps from './0007-top-ups.ts';
import * as bills from './0013-bills.ts';
import * as splitBilling from './0014-split-billing.ts';
import * as poolJoinsDestinationClass from './0015-pool-joins-destination-class.ts';
import * as eventsWebhooksAlerts from './0008-events-webhooks-alerts.ts';
import * as notifications from './0009-notifications.ts';
import * as policies from './0011-policies.ts';
import * as orders from './0010-orders.ts';
import * as rules from './0012-rules.ts';
import * as smsUsage from './0016-sms-usage.ts';
import * as eventDispatchQueue from './0017-event-dispatch-queue.ts';
import * as simFigureJournal from './0018-sim-figure-journal.ts';
import * as jobInputsUncompressed from './0019-job-inputs-uncompressed.ts';

/** Migrations in code, in order; never edit one that has shipped, add the next. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '0001-core': core,
    '0002-usage': usage,
    '0003-sim-list-indexes': simListIndexes,
    '0004-sims-fillfactor': simsFillfactor,
    '0005-usage-hourly-fillfactor': usageHourlyFillfactor,
    '0006-rating': rating,
    '0007-top-ups': topUps,
    '0013-bills': bills,
    '0014-split-billing': splitBilling,
    '0015-pool-joins-destination-class': poolJoinsDestinationClass,
    '0008-events-webhooks-alerts': eventsWebhooksAlerts,
    '0009-notifications': notifications,
    '0011-policies': policies,
    '0010-orders': orders,
    '0012-rules': rules,
    '0016-sms-usage': smsUsage,
    '0017-event-dispatch-queue': eventDispatchQueue,
    '0018-sim-figure-journal': simFigureJournal,
    '0019-job-inputs-uncompressed': jobInputsUncompressed,
  }),
};
