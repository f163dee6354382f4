import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type ReceiverMode = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'slow'; ms: number };

/** A real HTTP server on 127.0.0.1 that records webhook requests and answers as told; it can go down and come back on its port. */
export class WebhookReceiver {
  /** Requests answered with success. */
  readonly requests: ReceivedRequest[] = [];
  /** Every request that arrived, whatever the answer. */
  hits = 0;
  mode: ReceiverMode = { kind: 'ok' };
  private server: Server | undefined;
  port = 0;

  get listening(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const mode = this.mode;
        this.hits++;
        if (mode.kind === 'ok') this.requests.push({ headers: req.headers, body, at: Date.now() });
        if (mode.kind === 'slow') {
          const timer = setTimeout(() => res.writeHead(200).end('late'), mode.ms);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        if (mode.kind === 'status') res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('receiver broken');
        else res.writeHead(204).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and drops open connections: deliveries meet a refused connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests' parsed bodies. */
  bodies(): Record<string, unknown>[] {
    return this.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }
}
