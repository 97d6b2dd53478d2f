import { describe, expect, it } from 'vitest';
import { beforeEveryUuid, keysetPages } from '../src/keyset-pages.js';

const ids = Array.from({ length: 7 }, (_, n) => `00000000-0000-4000-8000-00000000000${n + 1}`);

/** A table of seven rows read the way the SQL callers read it: id > after, in id order. */
function reader(calls: string[]) {
  return async (after: string, limit: number) => {
    calls.push(after);
    return ids.filter((id) => id > after).slice(0, limit).map((id) => ({ id }));
  };
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('keysetPages', () => {
  it('walks every row once in id order, each page starting after the last id of the one before', async () => {
    const calls: string[] = [];
    const pages = await collect(keysetPages(reader(calls), { pageSize: 3 }));
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((row) => row.id)).toEqual(ids);
    expect(calls).toEqual([beforeEveryUuid, ids[2], ids[5]]);
  });

  it('after a full page reads once more to learn nothing follows; an empty table yields no page', async () => {
    const calls: string[] = [];
    const pages = await collect(keysetPages(reader(calls), { pageSize: 7 }));
    expect(pages).toHaveLength(1);
    // A full last page needs one more read to learn that nothing follows.
    expect(calls).toEqual([beforeEveryUuid, ids[6]]);
    expect(await collect(keysetPages(async () => [], { pageSize: 3 }))).toEqual([]);
  });

  it('starts after a given cursor', async () => {
    const pages = await collect(keysetPages(reader([]), { pageSize: 10, after: ids[4] }));
    expect(pages.flat().map((row) => row.id)).toEqual(ids.slice(5));
  });
});
