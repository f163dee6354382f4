/**
 * SMS as usage: what one SMS of a SIM costs and whether its communication plan lets it through. Pure, no I/O.
 *
 * Every segment is one billed message (operators bill per segment). A message counts once: an MT message when the
 * SMSC accepted every segment, an MO message when it is stored (a retransmission with the same reference is not).
 * In the test period SMS are free and count towards the test allowance only; otherwise the plan's included SMS of
 * the cycle go first, then each message is charged the plan's SMS price (`rateSms`).
 */
import { createHash } from 'node:crypto';
import type { CompiledPolicy } from '../policies/policy.ts';
import type { RatePlan } from '../rating/rate-plan.ts';
import { openSimBalance, rateSms } from '../rating/rating.ts';

export interface SmsCharge {
  testParts: number;
  includedParts: number;
  chargedParts: number;
  chargeMicros: number;
}

/**
 * The charge of `parts` messages of a SIM that counted `countedBefore` (non-test) messages on the same plan in the
 * cycle. Without a plan the messages are counted, not charged.
 */
export function chargeSms(plan: RatePlan | undefined, countedBefore: number, parts: number, inTestPeriod: boolean): SmsCharge {
  if (inTestPeriod) return { testParts: parts, includedParts: 0, chargedParts: 0, chargeMicros: 0 };
  if (!plan) return { testParts: 0, includedParts: 0, chargedParts: 0, chargeMicros: 0 };
  const rated = rateSms(plan, { ...openSimBalance(plan), smsCount: countedBefore }, parts);
  return { testParts: 0, includedParts: rated.includedCount, chargedParts: rated.chargedCount, chargeMicros: rated.amountMicros };
}

/** Why the communication plan refuses SMS with the device, or null when it allows them. */
export interface SmsRefusal {
  code: 'sms_service_off' | 'sms_not_whitelisted';
  message: string;
}

/**
 * Whether the platform may exchange SMS with a SIM under its communication plan: SMS must be on, and where the plan
 * has an SMS whitelist (定向短信) the platform's sender address must be on it.
 */
export function smsRefusal(policy: Pick<CompiledPolicy, 'planId' | 'services' | 'smsWhitelist'>, iccid: string, sender: string | null): SmsRefusal | null {
  const plan = policy.planId ? `communication plan ${policy.planId}` : 'the default communication plan (data only)';
  if (!policy.services.sms) {
    return { code: 'sms_service_off', message: `SMS is off for SIM ${iccid} under ${plan}: turn services.sms on in its communication plan to send it SMS` };
  }
  if (sender !== null && policy.smsWhitelist.size > 0 && !policy.smsWhitelist.has(sender.replace(/^\+/, ''))) {
    return {
      code: 'sms_not_whitelisted',
      message: `SIM ${iccid} may exchange SMS only with the numbers of its SMS whitelist under ${plan} (${[...policy.smsWhitelist].join(', ')}); the sender ${sender} is not on it`,
    };
  }
  return null;
}

/** The key that makes an SMS count once: the MT message itself, or an MO message's device reference, sender, text and day. */
export function smsDedupeKey(
  m: { direction: 'mo' | 'mt'; smsId: string; msisdn: string; text: string; at: Date },
  moReference: number | undefined,
): string {
  if (m.direction === 'mt' || moReference === undefined) return `${m.direction}:${m.smsId}`;
  const digest = createHash('sha256').update(m.text).digest('hex').slice(0, 16);
  return `mo:${m.msisdn}:${moReference}:${m.at.toISOString().slice(0, 10)}:${digest}`;
}
