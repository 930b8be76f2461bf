import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { behaviourOf, isEtlError } from '../errors/index.js';
import { HTML_CSP } from './security.js';

/**
 * Bull Board (@bull-board/fastify with the BullMQ adapter) at /admin/queues when Redis is
 * configured: the queue's jobs by state, with retry and clean. It can change the queue, so every
 * route of it, its page and files included, is behind the admin check. Its files come from the
 * package (@bull-board/ui), nothing from a CDN.
 */

/** Where the board is mounted. */
export const QUEUES_BOARD_PATH = '/admin/queues';

/**
 * The board's page under the dashboard's policy with three changes: inline styles (its loading
 * placeholder is styled by a `style` attribute and a `<style>` element), `data:` images, and
 * `<base href>` to this server (the page finds its files relative to /admin/queues/). Scripts stay
 * `'self'` only: the page's one inline script is JSON data (`type="application/json"`), never run.
 */
export const QUEUES_BOARD_CSP = HTML_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
  .replace("img-src 'self'", "img-src 'self' data:")
  .replace("base-uri 'none'", "base-uri 'self'");

/**
 * The page's Google Fonts stylesheet: taken out, not merely refused by the policy, so a browser
 * asks nothing of the internet (school servers often have no way out); the board draws in the
 * system font.
 */
const WEB_FONTS = /<link[^>]+href="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>/g;

type AdminHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Mounts Bull Board for `queue` at QUEUES_BOARD_PATH, every route of it behind `requireAdmin`. */
export function registerQueuesBoard(routes: FastifyInstance, queue: Queue, requireAdmin: AdminHook): void {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'cases-etl queue' } },
  });
  void routes.register(
    async (board) => {
      // Bull Board answers errors with its own handler: a refusal is sent here, in our error shape.
      board.addHook('onRequest', async (req, reply) => {
        try {
          await requireAdmin(req, reply);
        } catch (err) {
          if (!isEtlError(err)) throw err;
          const status = behaviourOf(err.code).http;
          return reply.code(status).send({ error: err.message, code: err.code, statusCode: status });
        }
        return undefined;
      });
      // After security.ts's hook (a parent's runs first): this page's own policy, and no caching of job data.
      board.addHook('onSend', async (_req, reply, payload) => {
        reply.header('cache-control', 'no-store');
        if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
        reply.header('content-security-policy', QUEUES_BOARD_CSP);
        if (typeof payload !== 'string') return payload;
        const page = payload.replace(WEB_FONTS, '');
        reply.header('content-length', Buffer.byteLength(page));
        return page;
      });
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: QUEUES_BOARD_PATH },
  );
}
