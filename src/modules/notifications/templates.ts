/** E-mail templates in Chinese and English, rendered with `{{name}}` variables: pure, no I/O. */
import { invalid } from '../../shared/errors.ts';

export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

interface Wording {
  subject: string;
  /** Paragraphs of the body; the text part joins them with blank lines, the HTML part wraps each in <p>. */
  body: string[];
}

interface Template {
  /** Variables the template needs; others given are ignored. */
  vars: readonly string[];
  zh: Wording;
  en: Wording;
}

/** Every template a module may send, by name. */
export const TEMPLATES = {
  alert_raised: {
    vars: ['severity', 'message', 'subject'],
    zh: { subject: '【{{severity}}】告警：{{message}}', body: ['对象 {{subject}} 产生了一条告警。', '级别：{{severity}}', '内容：{{message}}'] },
    en: { subject: '[{{severity}}] Alert: {{message}}', body: ['An alert was raised for {{subject}}.', 'Severity: {{severity}}', 'Message: {{message}}'] },
  },
  usage_threshold: {
    vars: ['subject', 'percent', 'used', 'limit'],
    zh: { subject: '用量提醒：{{subject}} 已达 {{percent}}%', body: ['{{subject}} 的用量已达到 {{percent}}%。', '已用：{{used}}，额度：{{limit}}'] },
    en: { subject: 'Usage notice: {{subject}} reached {{percent}}%', body: ['{{subject}} has used {{percent}}% of its allowance.', 'Used: {{used}}, allowance: {{limit}}'] },
  },
  prepaid_expiry: {
    vars: ['subject', 'expiresAt'],
    zh: { subject: '预付费到期提醒：{{subject}}', body: ['{{subject}} 的预付费套餐将于 {{expiresAt}} 到期。', '请及时续费，以免服务中断。'] },
    en: { subject: 'Prepaid plan expiring: {{subject}}', body: ['The prepaid plan of {{subject}} expires on {{expiresAt}}.', 'Renew it in time to keep the service running.'] },
  },
  test_period_ending: {
    vars: ['iccid', 'endsAt'],
    zh: { subject: '测试期即将结束：{{iccid}}', body: ['SIM 卡 {{iccid}} 的测试期将于 {{endsAt}} 结束，之后将自动转为正常使用（计费）。'] },
    en: { subject: 'Test period ending: {{iccid}}', body: ['The test period of SIM {{iccid}} ends on {{endsAt}}; the SIM then becomes active (billed).'] },
  },
  sim_suspended: {
    vars: ['iccid', 'reason'],
    zh: { subject: 'SIM 卡已停机：{{iccid}}', body: ['SIM 卡 {{iccid}} 已停机。', '原因：{{reason}}'] },
    en: { subject: 'SIM suspended: {{iccid}}', body: ['SIM {{iccid}} was suspended.', 'Reason: {{reason}}'] },
  },
  webhook_paused: {
    vars: ['url', 'reason'],
    zh: { subject: 'Webhook 已暂停：{{url}}', body: ['Webhook 地址 {{url}} 已暂停推送。', '原因：{{reason}}', '修复后请在控制台恢复推送。'] },
    en: { subject: 'Webhook paused: {{url}}', body: ['Deliveries to the webhook endpoint {{url}} were paused.', 'Reason: {{reason}}', 'Resume it once the endpoint is fixed.'] },
  },
  generic: {
    vars: ['title', 'message'],
    zh: { subject: '{{title}}', body: ['{{message}}'] },
    en: { subject: '{{title}}', body: ['{{message}}'] },
  },
} as const satisfies Record<string, Template>;

export type TemplateName = keyof typeof TEMPLATES;
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

const fill = (pattern: string, vars: Record<string, string>, escape: (s: string) => string): string =>
  pattern.replace(/\{\{(\w+)\}\}/g, (_, name: string) => escape(vars[name] ?? ''));

/** Subject, text and HTML of a template; every variable it needs must be given. Values are HTML-escaped in the HTML part. */
export function renderEmail(template: string, lang: string, vars: Record<string, unknown>): RenderedEmail {
  if (!(template in TEMPLATES)) {
    throw invalid('unknown_template', `e-mail template ${template} does not exist; allowed: ${TEMPLATE_NAMES.join(', ')}`);
  }
  if (!(LANGS as readonly string[]).includes(lang)) throw invalid('unknown_lang', `language ${lang} is not offered; allowed: ${LANGS.join(', ')}`);
  const t: Template = TEMPLATES[template as TemplateName];
  const missing = t.vars.filter((v) => vars[v] === undefined || vars[v] === null);
  if (missing.length) throw invalid('missing_template_vars', `template ${template} needs ${missing.join(', ')}`, { missing });
  const values = Object.fromEntries(t.vars.map((v) => [v, String(vars[v])]));
  const w = t[lang as Lang];
  // NOTE: a subject is one header line; line breaks in a value would be folded by the transport anyway.
  const subject = fill(w.subject, values, (s) => s.replace(/[\r\n]+/g, ' '));
  const text = w.body.map((p) => fill(p, values, (s) => s)).join('\n\n');
  const paragraphs = w.body.map((p) => `<p>${fill(p, values, escapeHtml).replace(/\n/g, '<br>')}</p>`).join('\n');
  const html = `<!doctype html>\n<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>\n<body style="font-family:sans-serif">\n${paragraphs}\n<p style="color:#888">Meridian</p>\n</body></html>`;
  return { subject, text, html };
}
