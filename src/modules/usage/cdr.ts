/** CDR (usage record) CSV files from carriers: columns and per-row validation. Pure. */

export const CDR_COLUMNS = ['record_id', 'iccid', 'imsi', 'start_time', 'end_time', 'bytes_up', 'bytes_down', 'mcc_mnc', 'apn', 'destination'] as const;
export const CDR_REQUIRED = ['record_id', 'start_time', 'end_time', 'bytes_up', 'bytes_down'] as const;

export interface CdrRecord {
  line: number;
  recordId: string;
  iccid: string | null;
  imsi: string | null;
  startAt: Date;
  endAt: Date;
  /** From the device (uplink), counted like Acct-Input-Octets. */
  bytesUp: number;
  /** To the device (downlink), counted like Acct-Output-Octets. */
  bytesDown: number;
  mccMnc: string | null;
  apn: string | null;
  /** Where the usage went (IP address or host name), when the carrier reports it: checked against directed access. */
  destination: string | null;
}

export type CdrCheck = { ok: true; record: CdrRecord } | { ok: false; code: string; message: string; recordId: string | null };

export function checkCdrHeader(columns: string[]): string[] {
  const problems: string[] = [];
  const unknown = columns.filter((c) => !(CDR_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) problems.push(`unknown column(s) ${unknown.join(', ')}; allowed: ${CDR_COLUMNS.join(', ')}`);
  const missing = CDR_REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length) problems.push(`missing required column(s) ${missing.join(', ')}`);
  if (!columns.includes('iccid') && !columns.includes('imsi')) problems.push('an iccid or an imsi column is required');
  return problems;
}

const cell = (v: string | undefined): string | null => {
  const t = v?.trim();
  return t ? t : null;
};

function parseTime(v: string | null): Date | null {
  if (!v) return null;
  // RFC 3339 / ISO 8601 with an offset or Z; a time without one is ambiguous and refused.
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) return null;
  const d = new Date(v.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? null : d;
}

function parseBytes(v: string | null): number | null {
  if (v === null || !/^\d{1,16}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

export function checkCdrRow(raw: Record<string, string | undefined>, line: number): CdrCheck {
  const recordId = cell(raw.record_id);
  const fail = (code: string, message: string): CdrCheck => ({ ok: false, code, message, recordId });
  if (!recordId) return fail('missing_record_id', 'record_id is required (it makes re-imports safe)');
  if (recordId.length > 128) return fail('invalid_record_id', 'record_id must be at most 128 characters');
  const iccid = cell(raw.iccid);
  const imsi = cell(raw.imsi);
  if (!iccid && !imsi) return fail('missing_sim', 'either iccid or imsi is required');
  if (iccid && !/^\d{19,20}$/.test(iccid)) return fail('invalid_iccid', `ICCID ${iccid} must be 19-20 digits`);
  if (imsi && !/^\d{15}$/.test(imsi)) return fail('invalid_imsi', `IMSI ${imsi} must be 15 digits`);
  const startAt = parseTime(cell(raw.start_time));
  const endAt = parseTime(cell(raw.end_time));
  if (!startAt || !endAt) return fail('invalid_time', 'start_time and end_time must be ISO 8601 times with a zone, e.g. 2026-01-15T08:00:00+08:00');
  if (endAt < startAt) return fail('invalid_time', 'end_time is before start_time');
  const bytesUp = parseBytes(cell(raw.bytes_up));
  const bytesDown = parseBytes(cell(raw.bytes_down));
  if (bytesUp === null || bytesDown === null) return fail('invalid_bytes', 'bytes_up and bytes_down must be whole numbers of bytes');
  const mccMnc = cell(raw.mcc_mnc);
  if (mccMnc && !/^\d{5,6}$/.test(mccMnc)) return fail('invalid_mcc_mnc', `MCC-MNC ${mccMnc} must be 5 or 6 digits`);
  return { ok: true, record: { line, recordId, iccid, imsi, startAt, endAt, bytesUp, bytesDown, mccMnc, apn: cell(raw.apn), destination: cell(raw.destination) } };
}
