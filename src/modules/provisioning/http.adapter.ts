import { createHmac } from 'node:crypto';
import { type ProvisioningAdapter, ProvisioningError, type ProvisioningRequest } from './provisioning.ts';

export interface HttpAdapterOptions {
  url: string;
  secret: string;
  timeoutMs: number;
}

export const SIGNATURE_HEADER = 'x-meridian-signature';
export const TIMESTAMP_HEADER = 'x-meridian-timestamp';

/** HMAC-SHA256 over `timestamp.body`, hex, as sent in the signature header (`v1=<hex>`). */
export function signProvisioningBody(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Sends each change as a signed JSON POST to a carrier's endpoint; any 2xx is success. */
export class HttpProvisioningAdapter implements ProvisioningAdapter {
  readonly name = 'http';
  constructor(private readonly options: HttpAdapterOptions) {}

  async provision(request: ProvisioningRequest): Promise<void> {
    const body = JSON.stringify({ type: 'sim.state_change', ...request });
    const timestamp = String(Math.floor(Date.now() / 1000));
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': request.requestId,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signProvisioningBody(this.options.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e as Error).message;
      throw new ProvisioningError(`provisioning endpoint unreachable: ${why}`);
    }
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 300);
      throw new ProvisioningError(`provisioning endpoint answered ${response.status}${text ? `: ${text}` : ''}`);
    }
  }
}
