import type { z } from 'zod';

/** Field name → first message: the shape forms and JSON errors both use. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // Named by its full path, so an unknown member of a nested object (`tracking.open`) is found.
      for (const key of issue.keys) fields[[...issue.path, key].join('.')] ??= 'is not a known field';
      continue;
    }
    const key = issue.path.length > 0 ? issue.path.join('.') : 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}
