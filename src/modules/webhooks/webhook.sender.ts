/** Sends one webhook request over HTTP(S) with keep-alive connections and a hard time limit. */
import http from 'node:http';
import https from 'node:https';

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

const MAX_ERROR_BODY = 200;

/** A POST client shared by every delivery: one keep-alive pool per scheme, at most `maxSockets` per host. */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly timeoutMs: number,
    maxSockets: number,
  ) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
  }

  /** POSTs `body`; a 2xx answer within the time limit is a success, anything else a failure with its reason. */
  async send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const first = await this.attempt(url, headers, body);
    // NOTE: a kept-alive connection the receiver closed while idle fails at once with ECONNRESET; that request never
    // reached the receiver, so it is sent again once on a new connection (Node's documented pattern, req.reusedSocket).
    if (first.staleSocket) return this.attempt(url, headers, body, true);
    return first;
  }

  private attempt(url: string, headers: Record<string, string>, body: string, fresh = false): Promise<SendResult & { staleSocket?: boolean }> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: Omit<SendResult, 'durationMs'> & { staleSocket?: boolean }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, durationMs: elapsed() });
      };
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        finish({ ok: false, statusCode: null, error: `invalid URL ${url}` });
        return;
      }
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request(
        target,
        {
          method: 'POST',
          agent: fresh ? false : target.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (!ok && text.length < MAX_ERROR_BODY) text += chunk;
          });
          res.on('end', () => finish({ ok, statusCode: status, error: ok ? null : `HTTP ${status}${text ? `: ${text.slice(0, MAX_ERROR_BODY).replace(/\s+/g, ' ').trim()}` : ''}` }));
          res.on('error', (err) => finish({ ok: false, statusCode: status, error: `response failed: ${err.message}` }));
        },
      );
      // NOTE: one timer for the whole exchange (connect, send, answer), not an idle timeout, so a receiver that
      // trickles bytes cannot hold a delivery longer than the limit.
      const timer = setTimeout(() => {
        finish({ ok: false, statusCode: null, error: `no answer within ${this.timeoutMs} ms` });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) =>
        finish({ ok: false, statusCode: null, error: err.code ? `${err.code}: ${err.message}` : err.message, staleSocket: req.reusedSocket && err.code === 'ECONNRESET' }),
      );
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
