import { z } from 'zod';
import { attributesPatchSchema, mergeAttributes } from '@herald/shared';
import type { Attributes, Db } from '@herald/shared';
import { signupInput } from './signup-schema.js';
import { subscriberViewColumns } from './subscriber-view.js';
import type { SubscriberView } from './subscriber-view.js';

/** `name: null` or `""` clears the name; `attributes` is a patch (a null value removes the key). */
export const editSubscriberInput = z.strictObject({
  name: signupInput.shape.name.nullable().optional(),
  attributes: attributesPatchSchema.optional(),
});

export type EditSubscriberInput = z.infer<typeof editSubscriberInput>;

export type EditSubscriberResult = { outcome: 'edited'; subscriber: SubscriberView } | { outcome: 'not_found' } | { outcome: 'too_big'; problem: string };

/**
 * Changes a person's name and attributes. The row is locked while the patch is merged, so two
 * edits at once each apply to the other's result rather than one overwriting the other.
 */
export async function editSubscriber(db: Db, subscriberId: string, input: EditSubscriberInput): Promise<EditSubscriberResult> {
  return db.$transaction(async (tx) => {
    const [current] = await tx.$queryRaw<{ attributes: Attributes }[]>`
      SELECT attributes FROM subscribers WHERE id = ${subscriberId}::uuid FOR UPDATE`;
    if (!current) return { outcome: 'not_found' };
    let attributes = current.attributes;
    if (input.attributes) {
      const merged = mergeAttributes(current.attributes, input.attributes);
      if (merged.problem) return { outcome: 'too_big', problem: merged.problem };
      attributes = merged.attributes;
    }
    const [subscriber] = await tx.$queryRaw<SubscriberView[]>`
      UPDATE subscribers SET
        name = CASE WHEN ${input.name !== undefined} THEN ${input.name ?? null} ELSE name END,
        attributes = ${JSON.stringify(attributes)}::jsonb,
        updated_at = now()
      WHERE id = ${subscriberId}::uuid
      RETURNING ${subscriberViewColumns}`;
    return { outcome: 'edited', subscriber: subscriber! };
  });
}
