import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { enqueueJob, jobs } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { requireJsonBody } from '../http/json-body.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { auditRequest, campaignTarget } from '../team/audit.js';
import { idempotencyKey, sendInput } from '../campaigns/campaign-schema.js';
import { createCampaign } from '../campaigns/create-campaign.js';
import { campaignWarnings } from '../campaigns/campaign-warnings.js';
import { campaignLinks, sendAnswerChunks } from '../campaigns/campaign-view.js';
import { readTaskIdList } from '../campaigns/campaign-queries.js';
import { fieldErrors } from '../http/field-errors.js';
import { AudienceInputError } from '../campaigns/campaign-audience-input.js';

/** An unknown or archived list, an unknown segment or rules that do not fit: 422 naming the field. */
export function audienceProblem(err: unknown): unknown {
  return err instanceof AudienceInputError ? new HttpError(422, 'invalid_request', 'Some fields need attention.', err.fields) : err;
}

/**
 * `POST /send`: creates the campaign and its deliveries, starts the fan-out and answers 202 with
 * every task id at once. Sending happens in the workers.
 */
export type SendRouteOptions = {
  /** Task ids per chunk written of the answer. */
  taskIdPageSize?: number;
};

export function sendRoutes({ db, queues, config, emailLayout, redis }: WebDeps, options: SendRouteOptions = {}): Router {
  const router = Router();
  router.post(
    '/send',
    ...apiAccess({ config, redis, db })('campaigns:send'),
    // JSON escaping can make a 1 MB body larger on the wire; the schema enforces the real limit.
    ...requireJsonBody('3mb'),
    async (req, res) => {
      const rawKey = req.get('idempotency-key');
      const key = rawKey === undefined ? undefined : idempotencyKey.safeParse(rawKey);
      if (key && !key.success) {
        throw new HttpError(400, 'invalid_idempotency_key', key.error.issues[0]?.message ?? 'Invalid Idempotency-Key.');
      }
      const parsed = sendInput.safeParse(req.body);
      if (!parsed.success) {
        throw new HttpError(400, 'invalid_request', 'Some fields need attention.', fieldErrors(parsed.error));
      }

      const { campaign, created, taskIds: newTaskIds } = await createCampaign(db, parsed.data, key?.data, config.tracking).catch((err: unknown) => {
        throw audienceProblem(err);
      });
      if (created) {
        await auditRequest(db, req, res, campaign.status === 'scheduled' ? 'campaign.scheduled' : 'campaign.started', campaignTarget(campaign), {
          recipients: campaign.recipientCount,
        });
      }
      if (created && campaign.status === 'sending') {
        await enqueueOrDefer('campaign fan-out', () => enqueueJob(queues, jobs.fanOut, { campaignId: campaign.id }, campaign.updatedAt), req.log);
      }

      // Every id is at hand before the first byte goes out, so a failed read is still answered
      // with an error status rather than a cut-off 202.
      const taskIds = newTaskIds ?? (await readTaskIdList(db, campaign.id));
      res.status(202).type('application/json');
      if (!created) res.set('Idempotent-Replayed', 'true');
      const head = {
        campaignId: campaign.id,
        status: campaign.status,
        recipients: campaign.recipientCount,
        links: campaignLinks(campaign.id),
        warnings: campaignWarnings(campaign, emailLayout),
      };
      try {
        await pipeline(Readable.from(sendAnswerChunks(head, taskIds, options.taskIdPageSize)), res);
      } catch (err) {
        // The campaign exists whatever happens to its answer: a client gone midway asks again
        // with its Idempotency-Key. Anything else cut the answer off, which is worth a log line.
        if (!req.destroyed) req.log.error({ err }, 'send answer failed midway');
      }
    },
  );
  return router;
}
