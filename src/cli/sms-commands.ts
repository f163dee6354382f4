/** `meridian sms …` and `meridian notifications list`: SMS to devices and people, e-mail notifications, through the REST API. */
import type { Command } from 'commander';
import { addPaging, apiCommand, type Context, fetchList, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { renderFields, time } from './output.ts';

interface SmsDto {
  id: string;
  accountId: string | null;
  direction: 'mt' | 'mo';
  iccid: string | null;
  msisdn: string;
  text: string;
  encoding: string;
  segments: number;
  status: string;
  attempts: number;
  error: string | null;
  messageId: string | null;
  errorCode: string | null;
  createdAt: string;
  submittedAt: string | null;
  doneAt: string | null;
}

interface NotificationDto {
  id: string;
  to: string[];
  template: string;
  lang: string;
  subject: string;
  status: string;
  attempts: number;
  error: string | null;
  createdAt: string;
  sentAt: string | null;
}

function printSms(ctx: Context<object>, m: SmsDto): void {
  if (ctx.opts.json) return ctx.out.json(m);
  ctx.out.print(
    renderFields([
      ['ID', m.id],
      ['Direction', m.direction === 'mt' ? 'mt (to the device)' : 'mo (from the device)'],
      ['ICCID', m.iccid ?? undefined],
      ['MSISDN', m.msisdn],
      ['Status', m.status],
      ['Text', m.text],
      ['Encoding', `${m.encoding}, ${m.segments} segment${m.segments === 1 ? '' : 's'}`],
      ['Attempts', m.attempts],
      ['Error', m.error ?? undefined],
      ['SMSC message id', m.messageId ?? undefined],
      ['Network error code', m.errorCode ?? undefined],
      ['Created at', time(m.createdAt)],
      ['Submitted at', time(m.submittedAt)],
      ['Done at', time(m.doneAt)],
    ]),
  );
}

const oneLine = (s: string): string => (s.length > 40 ? `${s.slice(0, 39)}…` : s).replace(/\s+/g, ' ');

export function registerSmsCommands(program: Command): void {
  const sms = program.command('sms').description('SMS (短信): commands to devices, messages to people, messages from devices');

  apiCommand(sms, 'send', 'send an SMS to a SIM (by ICCID) or to a phone number; it is queued and submitted to the SMSC')
    .option('--iccid <iccid>', 'a SIM of yours: the text goes to its MSISDN')
    .option('--msisdn <msisdn>', 'a phone number, country code first, e.g. 8613800138000')
    .requiredOption('--text <text>', 'the text; long text is sent as concatenated segments (UCS2 for Chinese)')
    .addHelpText('after', '\nExamples:\n  meridian sms send --iccid 89860012345678901234 --text "UNLOCK 7"\n  meridian sms send --msisdn 8613800138000 --text "三号集装箱已开锁"')
    .action(
      run<{ iccid?: string; msisdn?: string; text: string }>(async (ctx) => {
        const { iccid, msisdn, text } = ctx.opts;
        if ((iccid === undefined) === (msisdn === undefined)) throw new UsageError('give exactly one of --iccid or --msisdn');
        printSms(ctx, await ctx.client.post<SmsDto>('/sms', { iccid, msisdn, text }));
      }),
    );

  addPaging(
    apiCommand(sms, 'list', 'list SMS, newest first')
      .option('--direction <direction>', 'mt (sent to devices and people) or mo (received from devices)')
      .option('--iccid <iccid>', 'only SMS of this SIM')
      .option('--msisdn <msisdn>', 'only SMS to or from this number')
      .option('--status <statuses>', 'comma-separated: queued, sent, delivered, undeliverable, expired, rejected, deleted, unknown, failed, received')
      .option('--from <time>', 'created at or after (RFC 3339)')
      .option('--to <time>', 'created before (RFC 3339)'),
    100,
  ).action(
    run<PagingOptions & { direction?: string; iccid?: string; msisdn?: string; status?: string; from?: string; to?: string }>(async (ctx) => {
      const { direction, iccid, msisdn, status, from, to } = ctx.opts;
      if (direction !== undefined && direction !== 'mt' && direction !== 'mo') throw new UsageError('--direction is mt or mo');
      const page = await fetchList<SmsDto>(ctx, '/sms', { direction, iccid, msisdn, status, from, to }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (m) => m.id },
          { header: 'DIR', value: (m) => m.direction },
          { header: 'ICCID', value: (m) => m.iccid ?? '' },
          { header: 'MSISDN', value: (m) => m.msisdn },
          { header: 'STATUS', value: (m) => m.status },
          { header: 'TEXT', value: (m) => oneLine(m.text) },
          { header: 'CREATED', value: (m) => time(m.createdAt) },
        ],
        'SMS',
      );
    }),
  );

  apiCommand(sms, 'show', 'show one SMS with its delivery status')
    .argument('<id>', 'SMS id (sms_…)')
    .action(run(async (ctx) => printSms(ctx, await ctx.client.get<SmsDto>(`/sms/${encodeURIComponent(ctx.arg(0))}`))));

  const notifications = program.command('notifications').description('e-mail notifications sent by Meridian');
  addPaging(
    apiCommand(notifications, 'list', 'list e-mail notifications, newest first, with their delivery status').option('--status <status>', 'queued, sent or failed'),
    100,
  ).action(
    run<PagingOptions & { status?: string }>(async (ctx) => {
      const page = await fetchList<NotificationDto>(ctx, '/notifications', { status: ctx.opts.status }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (m) => m.id },
          { header: 'TO', value: (m) => oneLine(m.to.join(', ')) },
          { header: 'TEMPLATE', value: (m) => `${m.template} (${m.lang})` },
          { header: 'STATUS', value: (m) => m.status },
          { header: 'ATTEMPTS', value: (m) => m.attempts, align: 'right' },
          { header: 'ERROR', value: (m) => oneLine(m.error ?? '') },
          { header: 'CREATED', value: (m) => time(m.createdAt) },
        ],
        'notifications',
      );
    }),
  );
}
