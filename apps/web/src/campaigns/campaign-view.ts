import type { Campaign } from '@herald/shared';

export function campaignLinks(id: string) {
  return { campaign: `/campaigns/${id}`, tasks: `/campaigns/${id}/tasks` };
}

/** The public shape of a campaign (without its body, which can be a megabyte). */
export function campaignSummary(campaign: Campaign) {
  return {
    id: campaign.id,
    subject: campaign.subject,
    status: campaign.status,
    statusReason: campaign.statusReason,
    format: campaign.format,
    inArchive: campaign.inArchive,
    tracking: { opens: campaign.trackOpens, clicks: campaign.trackClicks },
    recipients: campaign.recipientCount,
    sendAt: campaign.sendAt,
    createdAt: campaign.createdAt,
    startedAt: campaign.startedAt,
    finishedAt: campaign.finishedAt,
    links: campaignLinks(campaign.id),
  };
}

/** Task ids per chunk written of the `/send` answer. */
export const taskIdPageSize = 10_000;

/** `"` + a uuid's 36 characters + `"` + `,`: every id takes the same room in the list. */
const charsPerTaskId = 39;

/**
 * The `/send` answer as chunks of JSON: `head` with `"tasks"` appended, holding every id of
 * `taskIdList` (readTaskIdList), `pageSize` ids per chunk, so a million-id answer goes out at the
 * pace the client reads rather than as one more 38 MB copy.
 */
export function* sendAnswerChunks(head: object, taskIdList: string, pageSize = taskIdPageSize): Generator<string, void, undefined> {
  yield `${JSON.stringify(head).slice(0, -1)},"tasks":[`;
  const chunkChars = charsPerTaskId * pageSize;
  for (let at = 0; at < taskIdList.length; at += chunkChars) yield taskIdList.slice(at, at + chunkChars);
  yield ']}';
}
