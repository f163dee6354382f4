/** `COPY … FROM STDIN` with the plain `pg` client: the data goes to the server as CopyData messages. */
import pg from 'pg';

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
