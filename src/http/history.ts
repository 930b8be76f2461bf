import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { readRowHistory } from '../pipeline/index.js';
import type { Store } from '../store/index.js';

/**
 * `GET /api/cases-etl/history/:table/:key`: one row's history, as `cases-etl history --json`
 * prints it. Admin only, values or not: even without them the answer says which columns of a
 * named person's row changed when. `show_values=true` adds the values (`--show-values`).
 */
export function registerHistoryRoute(
  server: FastifyInstance,
  store: Store,
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>,
): void {
  server.get<{
    Params: { table: string; key: string };
    Querystring: { school?: string; show_values?: boolean };
  }>(
    '/api/cases-etl/history/:table/:key',
    {
      onRequest: requireAdmin,
      schema: {
        params: {
          type: 'object',
          properties: {
            table: { type: 'string', pattern: '^[A-Za-z0-9_]{1,64}$' },
            key: { type: 'string', minLength: 1, maxLength: 500 },
          },
          required: ['table', 'key'],
        },
        querystring: {
          type: 'object',
          properties: {
            school: { type: 'string', pattern: '^[A-Za-z0-9]+$' },
            show_values: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) =>
      readRowHistory(store, {
        table: req.params.table,
        key: req.params.key,
        school: req.query.school ?? null,
        values: req.query.show_values === true,
      }),
  );
}
