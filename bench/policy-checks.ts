/**
 * Policy check micro-benchmark, one core: the pure checks the RADIUS edge runs per Access-Request and accounting
 * packet (`modules/policies/policy.ts`, in the order of `engine/policy-book.ts`) for BENCH_SIMS SIMs, under the
 * default policy and under a plan with every rule on (TAC lock, region by country and operator, APNs, daily limit,
 * abnormal threshold, high-risk areas listed). The SIM's state is reached as the engine reaches it, through the slot
 * its HotSim holds; one more line looks it up by ICCID in a map instead, as the engine did before slots.
 *
 *   npx tsx bench/policy-checks.ts                BENCH_SIMS=100000, BENCH_CHECKS=3000000
 */
import {
  abnormalTraffic,
  apnAllowed,
  checkImeiLock,
  checkRegion,
  compilePolicy,
  type CompiledPolicy,
  countryOf,
  dailyLimitReached,
  DEFAULT_COMM_PLAN,
  highRiskArea,
  highRiskAreasOf,
  imeiLockOf,
} from '../src/modules/policies/policy.ts';

const SIMS = Number(process.env.BENCH_SIMS ?? 100_000);
const CHECKS = Number(process.env.BENCH_CHECKS ?? 3_000_000);
const line = (text = ''): void => void process.stdout.write(`${text}\n`);

interface State {
  policy: CompiledPolicy;
  boundImei: string | null;
  devices: string[];
  boundCountry: string | null;
}

const imei = (i: number): string => `35693803${String(i).padStart(7, '0')}`;
const strict = compilePolicy(
  {
    ...DEFAULT_COMM_PLAN,
    id: 'cp_bench',
    apns: ['iot.apn'],
    destinations: ['10.0.0.0/8'],
    imeiLock: { mode: 'tac', maxDevices: 10 },
    region: { mode: 'allowed', countries: ['CN'], zones: [], operators: ['45400'] },
    dailyDataLimitBytes: 1e12,
  },
  [],
);
const blacklist = new Set([imei(SIMS + 1)]);

function run(name: string, states: Map<string, State>, highRisk: ReturnType<typeof highRiskAreasOf>, by: 'slot' | 'iccid' = 'slot'): void {
  const fallback = compilePolicy(undefined, []);
  const iccids = Array.from({ length: SIMS }, (_, i) => `8986${String(i).padStart(16, '0')}`);
  const sims = iccids.map((iccid) => ({ iccid, policySlot: { generation: 0, state: states.get(iccid) ?? null } }));
  const inputs = iccids.map((_, i) => ({ imei: imei(i), mccMnc: '46000', apn: 'iot.apn' }));
  let refused = 0;
  const started = process.hrtime.bigint();
  for (let k = 0; k < CHECKS; k++) {
    const i = k % SIMS;
    const state = by === 'slot' ? (sims[i]!.policySlot.state ?? undefined) : states.get(iccids[i]!);
    const policy = state?.policy ?? fallback;
    const input = inputs[i]!;
    let bad = blacklist.has(input.imei);
    if (!bad && state) bad = checkImeiLock(imeiLockOf(policy, null), state.boundImei, state.devices, input.imei).kind === 'mismatch';
    if (!bad) bad = !apnAllowed(policy, input.apn);
    const country = highRisk.countries.size + highRisk.networks.size > 0 || policy.regionMode !== 'off' ? countryOf(input.mccMnc) : null;
    if (!bad) bad = highRiskArea(highRisk, input.mccMnc, country) !== undefined;
    if (!bad && policy.regionMode !== 'off') bad = checkRegion(policy, state?.boundCountry ?? null, input.mccMnc, country, false).kind === 'outside';
    if (!bad) bad = dailyLimitReached(policy, 1000) || abnormalTraffic(policy, 1000);
    if (bad) refused++;
  }
  const ns = Number(process.hrtime.bigint() - started) / CHECKS;
  line(`${name.padEnd(40)} ${ns.toFixed(0).padStart(5)} ns/check  ${Math.round(1e9 / ns).toLocaleString('en-US').padStart(12)} checks/s  (${refused} refused)`);
}

line(`policy checks, ${SIMS.toLocaleString('en-US')} SIMs, ${CHECKS.toLocaleString('en-US')} checks, Node ${process.version}`);
run('default policy (no state held)', new Map(), highRiskAreasOf([]));
const held = new Map<string, State>();
for (let i = 0; i < SIMS; i++) held.set(`8986${String(i).padStart(16, '0')}`, { policy: strict, boundImei: imei(i), devices: [imei(i)], boundCountry: null });
run('plan with every rule on, high-risk listed', held, highRiskAreasOf(['KP', '41401']));
run('the same, state looked up by ICCID', held, highRiskAreasOf(['KP', '41401']), 'iccid');
