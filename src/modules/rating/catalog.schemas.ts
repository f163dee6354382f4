/**
 * The API contract of the rating catalogue. Money is a decimal string in the major unit of the plan's currency
 * (`"19.15"` CNY), read exactly to the micro (at most 6 decimal places, never rounded) and written back with as many
 * places as it has, at least the currency's. Data sizes are integers in bytes (1 MB = 1,048,576).
 */
import { z } from 'zod';
import { iso, Timestamp } from '../../http/schemas.ts';
import { formatMicros, parseMicros } from './money.ts';
import type { PlanChange, PlanInput, PlanView } from './catalog.service.ts';
import { type OutOfCoverage, type RatePlan, SHARINGS } from './rate-plan.ts';
import type { Zone } from './zones.ts';

export const Money = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be a decimal amount in the major unit with at most 6 decimal places, such as "19.15"')
  .describe('decimal amount in the major unit of the currency, exact, at most 6 decimal places (e.g. "19.15")');
const Bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A time as taken in requests: RFC 3339 with Z or an offset, such as 2027-01-01T00:00:00+08:00. */
const TimeInput = z.iso.datetime({ offset: true }).describe('RFC 3339 time with Z or an offset, such as 2027-01-01T00:00:00+08:00');

// --- zones -------------------------------------------------------------------------------------------------------

export const ZoneSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    countries: z.array(z.string()).describe('ISO 3166-1 alpha-2 codes of the countries covered with all their networks'),
    networks: z.array(z.string()).describe('single networks covered (MCC+MNC, 5 or 6 digits) in countries not covered whole'),
  })
  .meta({ id: 'Zone' });

export const zoneDto = (z: Zone) => ({ id: z.id, name: z.name, countries: [...z.countries], networks: [...z.networks] });

const countries = z.array(z.string().max(8)).max(300).describe('ISO 3166-1 alpha-2 country codes, such as ["DE", "FR"]');
const networks = z.array(z.string().max(8)).max(1000).describe('MCC+MNC codes of single networks, such as ["26201"]');
const zoneName = z.string().trim().min(1).max(100);

export const ZoneCreateBody = z
  .object({ id: z.string().min(1).max(32).describe("1-32 letters, digits, '_', '.' or '-', e.g. Z1"), name: zoneName, countries: countries.optional(), networks: networks.optional() })
  .strict();
export const ZonePatchBody = z.object({ name: zoneName.optional(), countries: countries.optional(), networks: networks.optional() }).strict();

// --- plans -------------------------------------------------------------------------------------------------------

const OverageSchema = z.object({
  pricePerMb: Money.describe('price of each MB beyond the included data (套外)'),
  cap: Money.nullable().describe('most overage charged per SIM and cycle (封顶); null for no cap'),
});

const OutOfCoverageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('block') }).strict(),
  z
    .object({
      kind: z.literal('rate'),
      pricePerMb: Money.describe('roaming price per MB on networks outside the coverage zones'),
      zoneRates: z.array(z.object({ zoneId: z.string().max(32), pricePerMb: Money }).strict()).max(100).describe('roaming prices of particular zones; the first zone covering the network applies'),
    })
    .strict(),
]);

/** The terms of a plan as the API takes them. */
const terms = {
  name: z.string().trim().min(1).max(200),
  currency: z.string().max(3).describe('ISO 4217 code (default CNY)'),
  monthlyFee: Money.describe('monthly fee per SIM'),
  includedBytes: Bytes.describe('data included per cycle (per SIM, or each member\'s share of the pool)'),
  includedSms: z.number().int().min(0).max(1_000_000),
  smsPrice: Money.describe('price of an SMS beyond the included ones'),
  coverageZoneIds: z.array(z.string().max(32)).max(100).describe('zones where included data and overage apply; the first covering zone is the one charged'),
  overage: OverageSchema.nullable().describe('null: no overage, the SIM is suspended when its data is used up (套内用尽关停)'),
  cutoffBytes: Bytes.nullable().describe('cycle usage at which the SIM is cut off whatever its balance (超阈值断网); null for none; omitted on creation: the Fanyi default for the plan size'),
  sharing: z.enum(SHARINGS).describe('individual allowance per SIM, or pooled across the SIMs of an account (流量池)'),
  termMonths: z.number().int().min(1).max(120).nullable().describe('prepaid term in months; null for a monthly plan'),
  testAllowanceBytes: Bytes.describe('free data of the test period'),
  ratingIncrementBytes: z.number().int().min(1).max(1_048_576).describe('each session is rounded up to a multiple of this (default 1024)'),
  outOfCoverage: OutOfCoverageSchema.describe('usage outside the coverage zones: blocked (default), or rated at a roaming price'),
  notifyPercents: z.array(z.number().int()).max(10).describe('percentages of the included data whose crossing is notified (default 70, 90, 100)'),
  wholesalePlanId: z
    .string()
    .max(64)
    .nullable()
    .describe("a plan of an account above the plan's owner that this plan is sold on: it prices the SIMs on this plan on the owner's wholesale bill (null: none)"),
};

export const PlanCreateBody = z
  .object({
    id: z.string().min(1).max(64).describe("1-64 letters, digits, '_', '.' or '-'; unique across all accounts"),
    effectiveFrom: TimeInput.optional().describe('when the first version comes into force (default now)'),
    ...terms,
    currency: terms.currency.optional(),
    includedSms: terms.includedSms.optional(),
    smsPrice: terms.smsPrice.optional(),
    overage: terms.overage.default(null),
    cutoffBytes: terms.cutoffBytes.optional(),
    sharing: terms.sharing.optional(),
    termMonths: terms.termMonths.optional(),
    testAllowanceBytes: terms.testAllowanceBytes.optional(),
    ratingIncrementBytes: terms.ratingIncrementBytes.optional(),
    outOfCoverage: terms.outOfCoverage.optional(),
    notifyPercents: terms.notifyPercents.optional(),
    wholesalePlanId: terms.wholesalePlanId.optional(),
  })
  .strict();

export const PlanChangeBody = z
  .object(terms)
  .partial()
  .extend({ effectiveFrom: TimeInput.describe('when the new version comes into force: now or later, and after the latest version') })
  .strict();

type TermsBody = Partial<z.infer<z.ZodObject<typeof terms>>>;

const micros = (text: string, what: string) => parseMicros(text, what);

function outOfCoverageOf(o: z.infer<typeof OutOfCoverageSchema>): OutOfCoverage {
  return o.kind === 'block'
    ? { kind: 'block' }
    : {
        kind: 'rate',
        pricePerMbMicros: micros(o.pricePerMb, 'outOfCoverage.pricePerMb'),
        zoneRates: o.zoneRates.map((r) => ({ zoneId: r.zoneId, pricePerMbMicros: micros(r.pricePerMb, `roaming price of zone ${r.zoneId}`) })),
      };
}

/** The API's terms (decimal money) as plan fields (micros); fields left out stay out. */
function termsOf(b: TermsBody): PlanChange {
  const out: PlanChange = {};
  if (b.name !== undefined) out.name = b.name;
  if (b.currency !== undefined) out.currency = b.currency;
  if (b.monthlyFee !== undefined) out.monthlyFeeMicros = micros(b.monthlyFee, 'monthlyFee');
  if (b.includedBytes !== undefined) out.includedBytes = b.includedBytes;
  if (b.includedSms !== undefined) out.includedSms = b.includedSms;
  if (b.smsPrice !== undefined) out.smsPriceMicros = micros(b.smsPrice, 'smsPrice');
  if (b.coverageZoneIds !== undefined) out.coverageZoneIds = b.coverageZoneIds;
  if (b.overage !== undefined) {
    out.overage = b.overage && { pricePerMbMicros: micros(b.overage.pricePerMb, 'overage.pricePerMb'), capMicros: b.overage.cap === null ? null : micros(b.overage.cap, 'overage.cap') };
  }
  if (b.cutoffBytes !== undefined) out.cutoffBytes = b.cutoffBytes;
  if (b.sharing !== undefined) out.sharing = b.sharing;
  if (b.termMonths !== undefined) out.termMonths = b.termMonths;
  if (b.testAllowanceBytes !== undefined) out.testAllowanceBytes = b.testAllowanceBytes;
  if (b.ratingIncrementBytes !== undefined) out.ratingIncrementBytes = b.ratingIncrementBytes;
  if (b.outOfCoverage !== undefined) out.outOfCoverage = outOfCoverageOf(b.outOfCoverage);
  if (b.notifyPercents !== undefined) out.notifyPercents = b.notifyPercents;
  if (b.wholesalePlanId !== undefined) out.wholesalePlanId = b.wholesalePlanId;
  return out;
}

export function planInputOf(b: z.infer<typeof PlanCreateBody>): PlanInput {
  const { id, effectiveFrom, ...rest } = b;
  const t = termsOf(rest);
  return {
    ...t,
    id,
    name: b.name,
    monthlyFeeMicros: t.monthlyFeeMicros!,
    includedBytes: b.includedBytes,
    coverageZoneIds: b.coverageZoneIds,
    overage: t.overage ?? null,
    effectiveFrom: effectiveFrom === undefined ? undefined : new Date(effectiveFrom),
  };
}

export function planChangeOf(b: z.infer<typeof PlanChangeBody>): { change: PlanChange; effectiveFrom: Date } {
  const { effectiveFrom, ...rest } = b;
  return { change: termsOf(rest), effectiveFrom: new Date(effectiveFrom) };
}

export const PlanVersionSchema = z
  .object({
    version: z.number().int(),
    effectiveFrom: Timestamp,
    name: z.string(),
    currency: z.string(),
    monthlyFee: Money,
    includedBytes: z.number().int(),
    includedSms: z.number().int(),
    smsPrice: Money,
    coverageZoneIds: z.array(z.string()),
    overage: OverageSchema.nullable(),
    cutoffBytes: z.number().int().nullable(),
    sharing: z.enum(SHARINGS),
    termMonths: z.number().int().nullable(),
    testAllowanceBytes: z.number().int(),
    ratingIncrementBytes: z.number().int(),
    outOfCoverage: OutOfCoverageSchema,
    notifyPercents: z.array(z.number().int()),
    wholesalePlanId: z.string().nullable(),
  })
  .meta({ id: 'RatePlanVersion' });

export const PlanSchema = z
  .object({
    id: z.string(),
    accountId: z.string().describe('the account that owns and sells the plan'),
    inForce: PlanVersionSchema.nullable().describe('the version in force now; null before the first version starts'),
    versions: z.array(PlanVersionSchema).describe('every version, oldest first'),
  })
  .meta({ id: 'RatePlan' });

export function planVersionDto(v: RatePlan) {
  const money = (m: number) => formatMicros(m, v.currency);
  return {
    version: v.version,
    effectiveFrom: iso(v.effectiveFrom),
    name: v.name,
    currency: v.currency,
    monthlyFee: money(v.monthlyFeeMicros),
    includedBytes: v.includedBytes,
    includedSms: v.includedSms,
    smsPrice: money(v.smsPriceMicros),
    coverageZoneIds: [...v.coverageZoneIds],
    overage: v.overage && { pricePerMb: money(v.overage.pricePerMbMicros), cap: v.overage.capMicros === null ? null : money(v.overage.capMicros) },
    cutoffBytes: v.cutoffBytes,
    sharing: v.sharing,
    termMonths: v.termMonths,
    testAllowanceBytes: v.testAllowanceBytes,
    ratingIncrementBytes: v.ratingIncrementBytes,
    outOfCoverage:
      v.outOfCoverage.kind === 'block'
        ? { kind: 'block' as const }
        : {
            kind: 'rate' as const,
            pricePerMb: money(v.outOfCoverage.pricePerMbMicros),
            zoneRates: v.outOfCoverage.zoneRates.map((r) => ({ zoneId: r.zoneId, pricePerMb: money(r.pricePerMbMicros) })),
          },
    notifyPercents: [...v.notifyPercents],
    wholesalePlanId: v.wholesalePlanId,
  };
}

export const planDto = (p: PlanView) => ({
  id: p.id,
  accountId: p.accountId,
  inForce: p.inForce && planVersionDto(p.inForce),
  versions: p.versions.map(planVersionDto),
});

export const SampleLoadSchema = z
  .object({
    zonesCreated: z.number().int(),
    zonesKept: z.number().int().describe('zones of the sample whose id existed already; they are left as they are'),
    plansCreated: z.number().int(),
    plansKept: z.number().int().describe('plans of the sample whose id existed already; they are left as they are'),
    topUpProductsCreated: z.number().int().describe('sample top-up products (加油包) added to the operator account'),
    topUpProductsKept: z.number().int().describe('sample top-up products whose id existed already; they are left as they are'),
  })
  .meta({ id: 'SampleCatalogLoad' });
