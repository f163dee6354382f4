/** The parts of the `smpp` package (SMPP 3.4 sessions and PDUs) that Meridian and its tests use. */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    response(options?: Record<string, unknown>): Pdu;
    isResponse(): boolean;
  }

  type OnPdu = (pdu: Pdu) => void;

  export interface Session extends EventEmitter {
    socket: Socket;
    send(pdu: Pdu, onResponse?: OnPdu): boolean;
    bind_transceiver(options: Record<string, unknown>, onResponse?: OnPdu): boolean;
    submit_sm(options: Record<string, unknown>, onResponse?: OnPdu): boolean;
    deliver_sm(options: Record<string, unknown>, onResponse?: OnPdu): boolean;
    enquire_link(options: Record<string, unknown>, onResponse?: OnPdu): boolean;
    unbind(options: Record<string, unknown>, onResponse?: OnPdu): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  interface Smpp {
    connect(options: { host: string; port: number }): Session;
    createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
    errors: Record<string, number>;
  }

  const smpp: Smpp;
  export default smpp;
}
