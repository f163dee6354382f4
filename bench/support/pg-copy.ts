/** `COPY … FROM STDIN` with the plain `pg` client: the data goes to the server as CopyData messages. */
import pg from 'pg';
import { describeLoad, startLoadMeter, waitForQuietMachine } from './load.ts';
import { line } from './report.ts';

interface CopyInConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** Sends `data` to a `COPY … FROM STDIN` statement on `client`; resolves with the number of rows copied. */
export function copyFrom(client: pg.Client, copySql: string, data: Buffer, chunkBytes = 1 << 20): Promise<number> {
  return new Promise((resolve, reject) => {
    class CopyIn extends pg.Query {
      // Called by pg when the server answers the COPY statement with CopyInResponse.
      handleCopyInResponse(connection: CopyInConnection): void {
        for (let at = 0; at < data.length; at += chunkBytes) connection.sendCopyFromChunk(data.subarray(at, at + chunkBytes));
        connection.endCopyFrom();
      }
    }
    const query = new CopyIn(copySql);
    query.on('end', (result: pg.QueryResult) => resolve(result.rowCount ?? 0));
    query.on('error', reject);
    client.query(query);
  });
}

/**
 * The benchmarks' peer: `csv` (with a header) loaded with COPY into a new table `table` of `columns` without keys or
 * indexes, on one connection, once the machine is quiet. Prints the load meter's line; returns milliseconds.
 */
export async function timedCopyPeer(url: string, table: string, columns: string, csv: Buffer, count: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.query(`CREATE TABLE ${table} (${columns})`);
    await c.query('CHECKPOINT');
    await waitForQuietMachine();
    const meter = startLoadMeter();
    const started = performance.now();
    const copied = await copyFrom(c, `COPY ${table} FROM STDIN (FORMAT csv, HEADER true)`, csv);
    const elapsed = performance.now() - started;
    line(`  ${describeLoad(meter.stop())}`);
    if (copied !== count) throw new Error(`COPY loaded ${copied} rows, expected ${count}`);
    await c.query(`DROP TABLE ${table}`);
    return elapsed;
  } finally {
    await c.end();
  }
}
