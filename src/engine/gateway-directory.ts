import type { Logger } from 'pino';
import { compileGatewayTable, type Gateway, type GatewayTable } from '../modules/gateways/gateway.ts';
import type { GatewayService } from '../modules/gateways/gateway.service.ts';
import type { DisconnectTarget, GatewayDirectory } from './enforcement.ts';

/** The registered gateways in memory: which one a packet comes from, and where its Disconnect-Requests go. */
export class GatewayCache implements GatewayDirectory {
  private table: GatewayTable<Gateway> = compileGatewayTable([]);
  private byId = new Map<string, Gateway>();
  /** Source address → gateway (or null): one table lookup per address, not per packet. */
  private bySource = new Map<string, Gateway | null>();

  constructor(
    private readonly gateways: GatewayService,
    private readonly log: Logger,
  ) {
    gateways.onGatewaysChanged(() => {
      this.reload().catch((err: unknown) => this.log.error({ err }, 'could not reload gateways'));
    });
  }

  async reload(): Promise<number> {
    const all = await this.gateways.listAllGateways();
    this.table = compileGatewayTable(all);
    this.byId = new Map(all.map((g) => [g.id, g]));
    this.bySource = new Map();
    return all.length;
  }

  /** The gateway a packet from `ip` belongs to, if any. */
  match(ip: string): Gateway | undefined {
    let found = this.bySource.get(ip);
    if (found === undefined) {
      found = this.table.match(ip) ?? null;
      if (this.bySource.size > 10_000) this.bySource.clear();
      this.bySource.set(ip, found);
    }
    return found ?? undefined;
  }

  disconnectTarget(gatewayId: string, nasIp: string | null): DisconnectTarget | undefined {
    const g = this.byId.get(gatewayId);
    if (!g) return undefined;
    const host = nasIp ?? (g.address.includes('/') ? undefined : g.address);
    return host ? { host, port: g.coaPort, secret: g.secret } : undefined;
  }
}
