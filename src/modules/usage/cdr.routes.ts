import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { JobSchema, jobDto } from '../jobs/job.routes.ts';
import { CDR_COLUMNS } from './cdr.ts';

export const cdrRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/usage/cdr-imports', {
      schema: {
        tags: ['usage'],
        summary: 'Import a CDR file (Content-Type: text/csv) of usage records as a job',
        description:
          `Columns: ${CDR_COLUMNS.join(', ')}. record_id, start_time, end_time, bytes_up, bytes_down and one of iccid or imsi are required. ` +
          'Times are ISO 8601 with a zone; bytes_up is from the device, bytes_down to it. A record_id seen before (in this file or an earlier one) is skipped, ' +
          'so importing a file again adds nothing. Records are counted by the same engine as RADIUS accounting.',
        body: z.string().describe('the CSV file'),
        response: { 202: JobSchema, ...problems(400, 401, 403, 413, 415) },
      },
      handler: async (req, reply) => {
        const job = await s.cdr.startImport(principalOf(req), req.body);
        reply.status(202).header('location', `/api/v1/jobs/${job.id}`);
        return jobDto(job);
      },
    });
  };
