import { z } from 'zod';

/**
 * The query of a campaign's report: `breakdown=list` adds the figures per list of its audience,
 * which cost a read of every recipient, so they come only when asked for.
 */
export const reportQuery = z.object({
  breakdown: z.enum(['list'], { error: 'expected list' }).optional(),
});
