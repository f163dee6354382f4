/**
 * Bill documents: CSV, XLSX and PDF of one bill, in Chinese or English. Amounts are printed from integer minor units
 * and micros, never through floating point (XLSX cells hold the same decimal in the major unit for sums in Excel).
 */
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import { formatMicros, formatMinor } from '../rating/money.ts';
import type { BillLine, LineKind } from './bill.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const LANGS = ['en', 'zh'] as const;
export type Lang = (typeof LANGS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

/** What a bill document shows: the bill, its lines and the names of what they refer to. */
export interface BillDocument {
  id: string;
  period: string;
  currency: string;
  revision: number;
  accountId: string;
  accountName: string;
  issuedAt: Date;
  periodStart: Date;
  periodEnd: Date;
  totalMinor: number;
  totalMicros: number;
  lines: readonly BillLine[];
  zoneNames: ReadonlyMap<string, string>;
}

const KIND_LABELS: Record<Lang, Record<LineKind, string>> = {
  en: {
    monthly_fee: 'Monthly fee',
    first_month_fee: 'First-month fee (by days from activation)',
    usage_included: 'Data within allowance',
    overage: 'Overage data',
    roaming: 'Roaming data',
    sms: 'SMS',
    top_up: 'Top-up data',
  },
  zh: {
    monthly_fee: '月功能费',
    first_month_fee: '首月功能费（自激活日按天折算）',
    usage_included: '套内流量',
    overage: '套外流量',
    roaming: '漫游流量',
    sms: '短信',
    top_up: '加油包',
  },
};

const HEADINGS: Record<Lang, Record<string, string>> = {
  en: {
    title: 'Bill',
    paidBy: 'paid by order',
    account: 'Account',
    period: 'Billing month',
    bill: 'Bill number',
    issued: 'Issued',
    line: 'Line',
    item: 'Item',
    plan: 'Plan',
    zone: 'Zone',
    quantity: 'Quantity',
    data: 'Data (MB)',
    unit: 'Unit price',
    exact: 'Exact amount',
    amount: 'Amount',
    total: 'Total',
    note: 'Each line is rounded once, half up, to the minor unit; the total is the sum of the rounded lines. Quantity: SIMs for fees, usage records for data, messages (segments) for SMS, top-ups for top-up data; top-ups paid by an order are shown at no charge.',
  },
  zh: {
    title: '账单',
    paidBy: '已由订单支付',
    account: '账户',
    period: '账期',
    bill: '账单号',
    issued: '出账时间',
    line: '序号',
    item: '项目',
    plan: '套餐',
    zone: '区域',
    quantity: '数量',
    data: '流量（MB）',
    unit: '单价',
    exact: '精确金额',
    amount: '金额',
    total: '合计',
    note: '每行金额按四舍五入取整到分，合计为各行取整金额之和。数量：功能费为卡数，流量为话单条数，短信为条数（按分段计），加油包为个数；已由订单支付的加油包不再计费。',
  },
};

/** Bytes as MB with 6 decimals, exactly (1 MB = 1,048,576 bytes). */
export function bytesAsMb(bytes: number): string {
  const whole = Math.floor(bytes / 1_048_576);
  const rest = bytes - whole * 1_048_576;
  const frac = Math.round((rest * 1_000_000) / 1_048_576);
  return frac === 1_000_000 ? `${whole + 1}.000000` : `${whole}.${String(frac).padStart(6, '0')}`;
}

interface Row {
  line: number;
  item: string;
  plan: string;
  zone: string;
  quantity: number;
  data: string;
  unit: string;
  exact: string;
  amount: string;
}

function rows(doc: BillDocument, lang: Lang): Row[] {
  return doc.lines.map((l) => ({
    line: l.lineNo,
    item: [KIND_LABELS[lang][l.kind], l.trafficClass, l.productId, l.orderId === null ? null : `${HEADINGS[lang].paidBy} ${l.orderId}`].filter((x) => x !== null).join(' · '),
    plan: l.planName ?? l.planId ?? '',
    zone: l.zoneId === null ? '' : (doc.zoneNames.get(l.zoneId) ?? l.zoneId),
    quantity: l.quantity,
    data: l.kind === 'monthly_fee' || l.kind === 'first_month_fee' || l.kind === 'sms' ? '' : bytesAsMb(l.bytes),
    unit: l.unitPriceMicros === null ? '' : formatMicros(l.unitPriceMicros, doc.currency),
    exact: formatMicros(l.amountMicros, doc.currency),
    amount: formatMinor(l.amountMinor, doc.currency),
  }));
}

const COLUMNS = ['line', 'item', 'plan', 'zone', 'quantity', 'data', 'unit', 'exact', 'amount'] as const;

const csvCell = (v: string | number): string => {
  const s = String(v);
  return /[",\r\n]/.test(s) || /^[=+\-@\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV: a header row, one row per line, and a total row (UTF-8 with a byte order mark, for spreadsheet programs). */
export function billCsv(doc: BillDocument, lang: Lang): Buffer {
  const h = HEADINGS[lang];
  const out = [COLUMNS.map((c) => csvCell(c === 'unit' || c === 'exact' || c === 'amount' ? `${h[c]} (${doc.currency})` : h[c]!)).join(',')];
  for (const r of rows(doc, lang)) out.push(COLUMNS.map((c) => csvCell(r[c])).join(','));
  out.push([h.total!, '', '', '', '', '', '', formatMicros(doc.totalMicros, doc.currency), formatMinor(doc.totalMinor, doc.currency)].map(csvCell).join(','));
  return Buffer.from(`\uFEFF${out.join('\r\n')}\r\n`, 'utf8');
}

const header = (doc: BillDocument, lang: Lang): [string, string][] => {
  const h = HEADINGS[lang];
  return [
    [h.account!, `${doc.accountName} (${doc.accountId})`],
    [h.period!, doc.period],
    [h.bill!, `${doc.id} r${doc.revision}`],
    [h.issued!, doc.issuedAt.toISOString()],
  ];
};

/** XLSX: the bill's header, its lines with numeric cells, and the total. */
export async function billXlsx(doc: BillDocument, lang: Lang): Promise<Buffer> {
  const h = HEADINGS[lang];
  const book = new ExcelJS.Workbook();
  book.created = doc.issuedAt;
  const sheet = book.addWorksheet(`${h.title} ${doc.period}`);
  for (const [k, v] of header(doc, lang)) sheet.addRow([k, v]);
  sheet.addRow([]);
  const head = sheet.addRow(COLUMNS.map((c) => h[c]));
  head.font = { bold: true };
  const money = `#,##0.${'0'.repeat(2)}`;
  for (const r of rows(doc, lang)) {
    const row = sheet.addRow([r.line, r.item, r.plan, r.zone, r.quantity, r.data === '' ? null : Number(r.data), r.unit === '' ? null : Number(r.unit), Number(r.exact), Number(r.amount)]);
    row.getCell(9).numFmt = money;
  }
  const total = sheet.addRow([h.total, null, null, null, null, null, null, Number(formatMicros(doc.totalMicros, doc.currency)), Number(formatMinor(doc.totalMinor, doc.currency))]);
  total.font = { bold: true };
  total.getCell(9).numFmt = money;
  sheet.addRow([]);
  sheet.addRow([h.note]);
  sheet.columns.forEach((c, i) => (c.width = [6, 30, 24, 18, 10, 14, 12, 16, 14][i]));
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** The font of PDF bills: a file with Chinese glyphs (a .ttc needs the family name inside it). */
export interface PdfFont {
  path: string;
  family?: string;
}

/** PDF: an A4 page (or more) with the header, the lines as a table and the total. */
export function billPdf(doc: BillDocument, lang: Lang, font: PdfFont): Promise<Buffer> {
  const h = HEADINGS[lang];
  const pdf = new PDFDocument({ size: 'A4', margin: 40, info: { Title: `${h.title} ${doc.id} ${doc.period}`, Author: 'Meridian' } });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  if (font.family) pdf.font(font.path, font.family);
  else pdf.font(font.path);
  pdf.fontSize(18).text(`${h.title} · ${doc.period}`);
  pdf.moveDown(0.5).fontSize(10);
  for (const [k, v] of header(doc, lang)) pdf.text(`${k}: ${v}`);
  pdf.moveDown();
  const widths = [28, 120, 90, 60, 44, 56, 0, 0, 60];
  const cols = COLUMNS.filter((c) => c !== 'unit' && c !== 'exact');
  const colWidths = cols.map((c) => widths[COLUMNS.indexOf(c)]!);
  const drawRow = (cells: string[], bold = false) => {
    const y = pdf.y;
    let x = pdf.page.margins.left;
    let height = 0;
    cells.forEach((cell, i) => {
      const w = colWidths[i]!;
      pdf.fontSize(bold ? 9.5 : 9).text(cell, x, y, { width: w - 4, align: i >= 4 ? 'right' : 'left' });
      height = Math.max(height, pdf.y - y);
      x += w;
    });
    pdf.x = pdf.page.margins.left;
    pdf.y = y + height + 4;
    if (pdf.y > pdf.page.height - pdf.page.margins.bottom - 40) pdf.addPage();
  };
  drawRow(cols.map((c) => (c === 'amount' ? `${h[c]} (${doc.currency})` : h[c]!)), true);
  for (const r of rows(doc, lang)) drawRow(cols.map((c) => String(r[c])));
  drawRow([h.total!, '', '', '', '', '', formatMinor(doc.totalMinor, doc.currency)], true);
  pdf.moveDown().fontSize(8).text(h.note!, { width: pdf.page.width - pdf.page.margins.left - pdf.page.margins.right });
  pdf.end();
  return done;
}
