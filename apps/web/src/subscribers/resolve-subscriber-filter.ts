import { campaignSegmentPredicate } from '@herald/shared';
import type { Db } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import { findList } from '../lists/list-queries.js';
import type { SubscriberFilter } from './list-subscribers.js';

export type SubscriberFilterQuery = Omit<SubscriberFilter, 'listId' | 'segment'> & { list?: string; segment?: string };

/**
 * Turns a query's `list` (id or slug) into the list's id and `segment` (a saved segment's id)
 * into its compiled predicate. An unknown list or segment is the client's mistake: invalid_request
 * naming the field, so a typo never silently lists everyone.
 */
export async function resolveSubscriberFilter(db: Db, query: SubscriberFilterQuery): Promise<SubscriberFilter & { listName?: string; segmentName?: string }> {
  const { list: listRef, segment: segmentId, ...rest } = query;
  const filter: SubscriberFilter & { listName?: string; segmentName?: string } = { ...rest };
  if (listRef) {
    const list = await findList(db, listRef);
    if (!list) throw new DomainError('invalid_request', 'No list with that id or slug.', { list: 'no list with that id or slug' });
    filter.listId = list.id;
    filter.listName = list.name;
  }
  if (segmentId) {
    const [segment] = await db.$queryRaw<{ name: string }[]>`SELECT name FROM segments WHERE id = ${segmentId}::uuid`;
    if (!segment) throw new DomainError('invalid_request', 'No segment with that id.', { segment: 'no segment with that id' });
    filter.segment = await campaignSegmentPredicate(db, { segmentId });
    filter.segmentName = segment.name;
  }
  return filter;
}
