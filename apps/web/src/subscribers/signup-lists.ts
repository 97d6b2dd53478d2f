import type { Db } from '@herald/shared';
import { coalesceCalls } from '../batching/coalesce-calls.js';
import type { SignupList } from './register-subscriber.js';

/** A list as the public pages know it. */
export type OfferedList = {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  visibility: 'public' | 'private';
  isDefault: boolean;
  /** Whether joining waits for a confirmed address (see `effectiveDoubleOptIn`). */
  doubleOptIn: boolean;
};

export type ListResolution = { ok: true; lists: SignupList[] } | { ok: false; refused: string[] };

/**
 * Reads the lists that are not archived, for the signup pages and the preference centre. Requests
 * arriving together share one read, and every read starts after the request asked, so a list
 * made private is never offered from a stale copy.
 *
 * The default list keeps the meaning `DOUBLE_OPT_IN` always had: with `false`, joining it needs no
 * confirmation whatever the list says; with `true`, the list's own setting decides. Other lists
 * follow their own setting only.
 */
export function createListDirectory(db: Db, { doubleOptIn }: { doubleOptIn: boolean }) {
  const read = coalesceCalls(
    async (asks: null[]) => {
      const rows = await db.$queryRaw<(OfferedList & { ownDoubleOptIn: boolean })[]>`
        SELECT id, slug, name, description, visibility::text AS visibility, is_default AS "isDefault",
               double_opt_in AS "ownDoubleOptIn"
        FROM lists WHERE archived_at IS NULL
        ORDER BY is_default DESC, created_at, id`;
      const lists = rows.map(({ ownDoubleOptIn, ...list }) => ({ ...list, doubleOptIn: ownDoubleOptIn && (doubleOptIn || !list.isDefault) }));
      return asks.map(() => lists);
    },
    { maxBatch: 10_000, maxInFlight: 1 },
  );
  return {
    /** Every list that is not archived, the default first. */
    all: (): Promise<OfferedList[]> => read(null),
    /** The lists the public may join: offered on the signup form and the preference centre. */
    joinable: async (): Promise<OfferedList[]> => (await read(null)).filter((list) => list.visibility === 'public'),
  };
}

export type ListDirectory = ReturnType<typeof createListDirectory>;

/**
 * The lists a public signup names, by id or slug. None named: the default list, when the public
 * may join it. A private, archived or unknown list is refused by name; whether the caller answers
 * that with a 422 (JSON) or ignores it (the form) is its choice.
 */
export function resolveSignupLists(joinable: OfferedList[], refs: string[]): ListResolution {
  if (refs.length === 0) {
    const fallback = joinable.find((list) => list.isDefault);
    return fallback ? { ok: true, lists: [toSignupList(fallback)] } : { ok: false, refused: [] };
  }
  const found = refs.map((ref) => ({ ref, list: joinable.find((list) => list.id === ref || list.slug === ref) }));
  const refused = found.filter((entry) => !entry.list).map((entry) => entry.ref);
  if (refused.length > 0) return { ok: false, refused };
  const unique = new Map(found.map(({ list }) => [list!.id, toSignupList(list!)]));
  return { ok: true, lists: [...unique.values()] };
}

function toSignupList(list: OfferedList): SignupList {
  return { id: list.id, doubleOptIn: list.doubleOptIn };
}
