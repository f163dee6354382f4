import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { AppError } from '../../shared/errors.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { SimulatedProvisioningAdapter } from './simulated.adapter.ts';

const BehaviourSchema = z
  .object({
    delayMs: z.number().int().min(0).max(60_000),
    failureRate: z.number().min(0).max(1),
    failIccids: z.array(z.string()).max(100_000),
  })
  .meta({ id: 'SimulatorBehaviour' });

/** Operator controls of the built-in network simulator: make provisioning fail or slow. */
export const provisioningRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const simulator = (): SimulatedProvisioningAdapter => {
      if (!(s.provisioning instanceof SimulatedProvisioningAdapter)) {
        throw new AppError('simulator_not_active', `provisioning uses the ${s.provisioning.name} adapter, not the simulator`, 404);
      }
      return s.provisioning;
    };
    const tags = ['provisioning'];
    app.get('/provisioning/simulator', {
      schema: { tags, summary: 'How the simulated network currently behaves', response: { 200: BehaviourSchema, ...problems(401, 403, 404) } },
      handler: async (req) => {
        requirePermission(principalOf(req), 'system:write');
        return simulator().getBehaviour();
      },
    });
    app.put('/provisioning/simulator', {
      schema: {
        tags,
        summary: 'Tell the simulated network to fail or be slow',
        body: BehaviourSchema.partial(),
        response: { 200: BehaviourSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => {
        requirePermission(principalOf(req), 'system:write');
        return simulator().setBehaviour(req.body);
      },
    });
  };
