/**
 * The real server in a process of its own (so the load generator does not share its event loop), started by
 * bench/api.ts through `fork`. Configuration comes from the environment like `meridian start`; it reports its URL
 * and an operator API key over IPC and stops gracefully on the "stop" message or when the parent goes away.
 */
import { loadConfig } from '../../src/config/config.ts';
import { findRootAccount } from '../../src/modules/accounts/account.repository.ts';
import { startServer } from '../../src/server.ts';

export interface ServeReady {
  url: string;
  apiKey: string;
  dialect: string;
}

if (!process.send) throw new Error('bench/support/serve.ts runs as a child of bench/api.ts (needs an IPC channel)');

const server = await startServer(loadConfig(process.env), { print: () => undefined });
const { services } = server.platform;
const operator = await findRootAccount(services.db);
if (!operator) throw new Error('no operator account after start-up');
const { secret } = await services.auth.issueApiKey(operator.id, 'benchmark', 'operator_admin', 'system:bench', new Date(Date.now() + 2 * 3_600_000));
const ready: ServeReady = { url: server.url, apiKey: secret, dialect: server.platform.database.dialect };
process.send(ready);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('message', (m) => {
  if (m === 'stop') stop();
});
process.on('disconnect', stop);
