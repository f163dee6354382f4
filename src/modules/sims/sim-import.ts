/** CSV SIM import rules: columns and per-row validation. Pure. */
import { checkEid, checkIccid, checkImsi, checkMsisdn, LABEL_PATTERN } from './sim.ts';

export const IMPORT_COLUMNS = ['iccid', 'imsi', 'active_imsi', 'msisdn', 'eid', 'batch', 'group', 'labels', 'device_name'] as const;
export const REQUIRED_COLUMNS = ['iccid', 'imsi'] as const;
/** Separator of several IMSIs or labels inside one cell. */
export const LIST_SEPARATOR = /[|;]/;

export interface ImportedSim {
  line: number;
  iccid: string;
  imsis: string[];
  activeImsi: string;
  msisdn: string | null;
  eid: string | null;
  batch: string | null;
  group: string | null;
  labels: string[];
  deviceName: string | null;
}

export type RowCheck = { ok: true; sim: ImportedSim } | { ok: false; code: string; message: string; iccid: string | null };

/** Problems with the header row; empty when the columns are usable. */
export function checkHeader(columns: string[]): string[] {
  const problems: string[] = [];
  const unknown = columns.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) problems.push(`unknown column(s) ${unknown.join(', ')}; allowed: ${IMPORT_COLUMNS.join(', ')}`);
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length) problems.push(`missing required column(s) ${missing.join(', ')}`);
  return problems;
}

const cell = (v: string | undefined): string | null => {
  const t = v?.trim();
  return t ? t : null;
};

const list = (v: string | undefined): string[] => (cell(v) ?? '').split(LIST_SEPARATOR).map((s) => s.trim()).filter(Boolean);

/** Validates one data row (line numbers count the header as line 1). */
export function checkImportRow(raw: Record<string, string | undefined>, line: number): RowCheck {
  const iccid = cell(raw.iccid) ?? '';
  const fail = (code: string, message: string): RowCheck => ({ ok: false, code, message, iccid: iccid || null });
  const iccidCheck = checkIccid(iccid);
  if (!iccidCheck.ok) return fail(iccidCheck.code, iccidCheck.message);
  const imsis = list(raw.imsi);
  if (imsis.length === 0) return fail('missing_imsi', 'at least one IMSI is required');
  for (const imsi of imsis) {
    const c = checkImsi(imsi);
    if (!c.ok) return fail(c.code, c.message);
  }
  if (new Set(imsis).size !== imsis.length) return fail('duplicate_imsi', 'the same IMSI is listed twice for this SIM');
  const activeImsi = cell(raw.active_imsi) ?? imsis[0]!;
  if (!imsis.includes(activeImsi)) return fail('invalid_active_imsi', `active_imsi ${activeImsi} is not one of this SIM's IMSIs`);
  const msisdn = cell(raw.msisdn);
  if (msisdn) {
    const c = checkMsisdn(msisdn);
    if (!c.ok) return fail(c.code, c.message);
  }
  const eid = cell(raw.eid);
  if (eid) {
    const c = checkEid(eid);
    if (!c.ok) return fail(c.code, c.message);
  }
  const labels = [...new Set(list(raw.labels))];
  const badLabel = labels.find((l) => !LABEL_PATTERN.test(l));
  if (badLabel !== undefined) return fail('invalid_label', `label "${badLabel}" must be 1-64 letters, digits, _ . : or -`);
  const batch = cell(raw.batch);
  if (batch && batch.length > 64) return fail('invalid_batch', 'batch must be at most 64 characters');
  return {
    ok: true,
    sim: { line, iccid, imsis, activeImsi, msisdn, eid, batch, group: cell(raw.group), labels, deviceName: cell(raw.device_name) },
  };
}
