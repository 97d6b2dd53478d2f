import { z } from 'zod';

/** SendGrid's open and click tracking for every email of a campaign. */
export type CampaignTracking = { opens: boolean; clicks: boolean };

/**
 * `tracking` as `/send` and `PATCH /campaigns/:id` take it: either setting may be left out, and
 * gets the configured default at creation (or stays as it is in an edit).
 */
export const trackingInput = z.strictObject(
  {
    opens: z.boolean({ error: 'tracking.opens must be true or false' }).optional(),
    clicks: z.boolean({ error: 'tracking.clicks must be true or false' }).optional(),
  },
  { error: 'tracking must be an object like {"opens": true, "clicks": true}' },
);

export type TrackingInput = z.infer<typeof trackingInput>;

/** The columns of a new campaign: what the request chose, the configured default for the rest. */
export function trackingColumns(input: TrackingInput | undefined, defaults: CampaignTracking): { trackOpens: boolean; trackClicks: boolean } {
  return { trackOpens: input?.opens ?? defaults.opens, trackClicks: input?.clicks ?? defaults.clicks };
}

/** The columns an edit changes: only the settings it names. */
export function changedTrackingColumns(input: TrackingInput | undefined): { trackOpens?: boolean; trackClicks?: boolean } {
  return {
    ...(input?.opens !== undefined ? { trackOpens: input.opens } : {}),
    ...(input?.clicks !== undefined ? { trackClicks: input.clicks } : {}),
  };
}
