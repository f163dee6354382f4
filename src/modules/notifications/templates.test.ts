import { describe, expect, it } from 'vitest';
import { escapeHtml, renderEmail, TEMPLATE_NAMES } from './templates.ts';

describe('e-mail templates', () => {
  it('renders every template in Chinese and English', () => {
    for (const name of TEMPLATE_NAMES) {
      for (const lang of ['zh', 'en']) {
        const vars = { severity: 'critical', message: 'm', subject: 's', percent: 80, used: '8 GB', limit: '10 GB', expiresAt: '2026-02-01', iccid: '8986', endsAt: '2026-02-01', reason: 'r', url: 'https://x', title: 't' };
        const r = renderEmail(name, lang, vars);
        expect(r.subject.length).toBeGreaterThan(0);
        expect(r.text).not.toContain('{{');
        expect(r.html).toContain('<p>');
      }
    }
  });

  it('interpolates variables, escaping them in the HTML part only', () => {
    const r = renderEmail('sim_suspended', 'zh', { iccid: '89860000000000000001', reason: '<b>quota</b> & "more"' });
    expect(r.subject).toBe('SIM 卡已停机：89860000000000000001');
    expect(r.text).toContain('原因：<b>quota</b> & "more"');
    expect(r.html).toContain('原因：&lt;b&gt;quota&lt;/b&gt; &amp; &quot;more&quot;');
    expect(r.html).not.toContain('<b>quota');
    expect(renderEmail('sim_suspended', 'en', { iccid: '1', reason: 'x' }).subject).toBe('SIM suspended: 1');
  });

  it('keeps line breaks out of the subject', () => {
    expect(renderEmail('generic', 'en', { title: 'a\r\nBcc: x@y.z', message: 'b' }).subject).toBe('a Bcc: x@y.z');
  });

  it('names the missing variables, unknown templates and languages', () => {
    expect(() => renderEmail('sim_suspended', 'en', { iccid: '1' })).toThrow(/needs reason/);
    expect(() => renderEmail('nope', 'en', {})).toThrow(/allowed: alert_raised/);
    expect(() => renderEmail('generic', 'fr', { title: 't', message: 'm' })).toThrow(/allowed: zh, en/);
    expect(escapeHtml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });
});
