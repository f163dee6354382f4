import type { Command } from 'commander';
import { registerAdminCommands } from './admin-commands.ts';
import { registerBillCommands } from './bill-commands.ts';
import { registerAlertCommands } from './alert-commands.ts';
import { registerBulkCommands } from './bulk-commands.ts';
import { registerCatalogCommands } from './catalog-commands.ts';
import { addGlobalOptions, exitTwoOnUsageErrors } from './command-kit.ts';
import { registerGatewayCommands } from './gateway-commands.ts';
import { registerJobCommands } from './job-commands.ts';
import { registerPolicyCommands } from './policy-commands.ts';
import { registerOrderCommands } from './order-commands.ts';
import { registerRuleCommands } from './rule-commands.ts';
import { registerSimCommands } from './sim-commands.ts';
import { registerSmsCommands } from './sms-commands.ts';
import { registerUsageCommands } from './usage-commands.ts';
import { registerWebhookCommands } from './webhook-commands.ts';

/** Commands that talk to a running server through the REST API. */
export function registerApiCommands(program: Command): void {
  addGlobalOptions(program);
  registerSimCommands(program);
  registerBulkCommands(program);
  registerJobCommands(program);
  registerAdminCommands(program);
  registerGatewayCommands(program);
  registerUsageCommands(program);
  registerCatalogCommands(program);
  registerBillCommands(program);
  registerAlertCommands(program);
  registerWebhookCommands(program);
  registerSmsCommands(program);
  registerPolicyCommands(program);
  registerOrderCommands(program);
  registerRuleCommands(program);
  program.addHelpText(
    'after',
    '\nAPI commands call a running server (--url, MERIDIAN_URL) with an API key (--api-key, MERIDIAN_API_KEY).\n' +
      'Exit codes: 0 success, 1 error, 2 wrong usage, 3 a job finished with failed rows.',
  );
  exitTwoOnUsageErrors(program);
}
