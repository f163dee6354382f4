import type { AccountingInput } from '../../src/modules/usage/accounting.ts';
import { imsiFor } from './iccid.ts';

/** A decoded Interim-Update of session `s1` of SIM 1 on a 4G network in China; `over` replaces any field. */
export const accountingInput = (over: Partial<AccountingInput> = {}): AccountingInput => ({
  status: 'interim',
  acctSessionId: 's1',
  multiSessionId: null,
  userName: null,
  imsi: imsiFor(1),
  msisdn: null,
  bytesIn: 0,
  bytesOut: 0,
  hasGigawords: true,
  sessionSeconds: null,
  eventTime: null,
  apn: 'iot.apn',
  framedIp: '10.0.0.1',
  rat: '4G',
  mccMnc: '46000',
  cell: { tac: 1, eci: 2 },
  imei: null,
  nasIp: '127.0.0.1',
  chargingId: null,
  terminateCause: null,
  ...over,
});
