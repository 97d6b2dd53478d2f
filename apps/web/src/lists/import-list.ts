import { defaultListId } from '@herald/shared';
import type { SqlClient } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import { findList } from './list-queries.js';

/**
 * The list an import subscribes people to: the one `ref` names (id or slug), or the default list.
 * Checked before the file is read, so a typo refuses the import rather than filling another list.
 */
export async function importListId(db: SqlClient, ref: string | undefined): Promise<string> {
  if (ref === undefined) return defaultListId(db);
  const list = await findList(db, ref);
  if (!list) throw new DomainError('invalid_request', 'No list with that id or slug.', { list: 'no list with that id or slug' });
  if (list.archivedAt) throw new DomainError('invalid_state', 'The list is archived and takes no new subscribers.', { list: 'is archived' });
  return list.id;
}
