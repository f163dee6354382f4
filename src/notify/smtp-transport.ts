/** The SMTP edge: sends rendered e-mails through nodemailer and sorts failures into permanent and temporary. */
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { EmailTransport } from '../modules/notifications/notification.service.ts';
import { DeliveryError } from '../modules/notifications/notification.ts';

export interface SmtpOptions {
  /** smtp:// or smtps:// URL; host, port, user and password below override its parts. */
  url?: string;
  host?: string;
  port?: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  user?: string;
  password?: string;
  from: string;
  timeoutMs: number;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** A failure that sending again will not cure: a refused login, or a 5xx answer to the message or its recipients. */
export function classifySmtpError(err: unknown): DeliveryError {
  const e = (err ?? {}) as SmtpFailure;
  const said = (e.response ?? e.message ?? String(err)).trim();
  if (e.code === 'EAUTH') return new DeliveryError(`SMTP authentication failed: ${said}`, true);
  if (e.responseCode !== undefined && e.responseCode >= 500) return new DeliveryError(`SMTP server refused the message (${e.responseCode}): ${said}`, true);
  if (e.code === 'EENVELOPE' && e.responseCode === undefined) return new DeliveryError(`SMTP envelope refused: ${said}`, true);
  return new DeliveryError(`SMTP server unreachable or busy${e.code ? ` (${e.code})` : ''}: ${said}`, false);
}

export class SmtpTransport implements EmailTransport {
  private readonly transporter: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(private readonly options: SmtpOptions) {
    const fromUrl = options.url ? new URL(options.url) : undefined;
    const secure = options.secure ?? fromUrl?.protocol === 'smtps:';
    const user = options.user ?? (fromUrl?.username ? decodeURIComponent(fromUrl.username) : undefined);
    const pass = options.password ?? (fromUrl?.password ? decodeURIComponent(fromUrl.password) : undefined);
    this.transporter = nodemailer.createTransport({
      host: options.host ?? fromUrl?.hostname,
      port: options.port ?? (fromUrl?.port ? Number(fromUrl.port) : secure ? 465 : 587),
      secure,
      ...(user ? { auth: { user, pass } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs * 2,
    });
  }

  async send(message: { to: string[]; subject: string; text: string; html: string }): Promise<{ messageId: string | null }> {
    try {
      const info = await this.transporter.sendMail({ from: this.options.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
      return { messageId: info.messageId ?? null };
    } catch (err) {
      throw classifySmtpError(err);
    }
  }

  close(): void {
    this.transporter.close();
  }
}
