/** Sorts before every UUID: a keyset walk over uuid ids starts after it. */
export const beforeEveryUuid = '00000000-0000-0000-0000-000000000000';

/** Reads up to `limit` rows whose id is greater than `after`, in id order. */
export type PageReader<Row extends { id: string }> = (after: string, limit: number) => Promise<Row[]>;

/**
 * Walks rows in id order a page at a time (keyset paging: `WHERE id > $after ORDER BY id LIMIT
 * $limit`, so a page costs the same at the end as at the start, and rows added or changed behind
 * the cursor never shift later pages). Yields each non-empty page; stops after a short page. The
 * SQL stays with its caller; this is only the walk, so every walk starts and advances the same way.
 */
export async function* keysetPages<Row extends { id: string }>(
  readPage: PageReader<Row>,
  { pageSize, after = beforeEveryUuid }: { pageSize: number; after?: string },
): AsyncGenerator<Row[], void, undefined> {
  let cursor = after;
  for (;;) {
    const page = await readPage(cursor, pageSize);
    const last = page.at(-1);
    if (!last) return;
    yield page;
    if (page.length < pageSize) return;
    cursor = last.id;
  }
}
