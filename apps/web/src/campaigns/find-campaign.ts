import type { Db } from '@herald/shared';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';

/** The campaign a route's `:id` names, or the 404 every campaign route answers for an unknown one. */
export async function findCampaign(db: Db, rawId: unknown) {
  const campaign = await db.campaign.findUnique({ where: { id: parseId(rawId, 'campaign') } });
  if (!campaign) throw new HttpError(404, 'not_found', 'No campaign with that id.');
  return campaign;
}
