import { z } from 'zod';
import { storableText } from '@herald/shared';
import { timeIdCursor } from '../http/time-id-cursor.js';
import { recipientEvents } from './report-kinds.js';

/**
 * The query of a report figure's people, for the API and the admin page alike: which figure
 * (`event`), for clicks optionally which link (`url` as written or as clicked, or `link` for the
 * footer's unsubscribe and preference links), and where the page starts.
 */
export const recipientsQuery = z
  .object({
    event: z.enum(recipientEvents, { error: `expected one of ${recipientEvents.join(', ')}` }),
    // Compared in SQL with the links as written and as clicked: a NUL would fail the statement.
    url: storableText('url').min(1).max(2048).optional(),
    link: z.enum(['unsubscribe', 'preferences']).optional(),
    cursor: timeIdCursor.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((query) => query.event === 'clicked' || (query.url === undefined && query.link === undefined), {
    message: 'a link filter goes with event=clicked',
    path: ['url'],
  })
  .refine((query) => query.url === undefined || query.link === undefined, { message: 'give url or link, not both', path: ['link'] });

export type RecipientsQuery = z.output<typeof recipientsQuery>;
