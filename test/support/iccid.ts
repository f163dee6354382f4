import { luhnCheckDigit } from '../../src/shared/luhn.ts';

/** A valid 20-digit ICCID (89 86 …, Luhn-checked) for a serial number. */
export const iccidFor = (serial: number, prefix = '8986001'): string => {
  const payload = `${prefix}${String(serial).padStart(19 - prefix.length, '0')}`;
  return `${payload}${luhnCheckDigit(payload)}`;
};

/** A 15-digit IMSI (MCC 460, MNC 00) for a serial number. */
export const imsiFor = (serial: number, prefix = '46000'): string => `${prefix}${String(serial).padStart(15 - prefix.length, '0')}`;

/** A 13-digit Chinese IoT MSISDN for a serial number. */
export const msisdnFor = (serial: number): string => `1440${String(serial).padStart(9, '0')}`;

/** CSV for `count` SIMs starting at `from`. */
export function simCsv(from: number, count: number, extra: (i: number) => string = () => ''): string {
  const lines = ['iccid,imsi,msisdn,batch,labels'];
  for (let i = from; i < from + count; i++) lines.push(`${iccidFor(i)},${imsiFor(i)},${msisdnFor(i)},B1,${extra(i)}`);
  return `${lines.join('\n')}\n`;
}
