/**
 * Writes docs/api-reference.md, the API reference rendered from the OpenAPI description that
 * `GET /openapi.json` serves (apps/web/src/openapi/). The file is generated: change the description,
 * then run
 *
 *   npm run docs:api
 *
 * test/api-reference.test.ts fails while the file differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../apps/web/src/openapi/document.js';

/** The server the rendered document names; a placeholder, so the output never depends on PUBLIC_URL. */
export const placeholderServer = 'https://herald.example.com';

export const referencePath = fileURLToPath(new URL('../docs/api-reference.md', import.meta.url));

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
};
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: Schema };
type Response = { description: string; content?: Record<string, unknown> };
type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Schema }> };
  responses: Record<string, Response>;
};
type Document = {
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const methods = ['get', 'put', 'post', 'patch', 'delete'];

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** A schema's type in a few words: `string (uuid)`, `"html" | "markdown"`, `array of List`, `… or null`. */
function typeOf(schema: Schema | undefined): string {
  if (!schema) return 'any';
  if (schema.$ref) return refName(schema.$ref);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(' or ');
  const types = [schema.type ?? (schema.properties ? 'object' : 'any')].flat();
  return types
    .map((type) => {
      if (type === 'array') return `array of ${typeOf(schema.items)}`;
      const values = schema.additionalProperties;
      if (type === 'object' && !schema.properties && typeof values === 'object' && Object.keys(values).length) {
        return `object of ${typeOf(values)}`;
      }
      return schema.format ? `${type} (${schema.format})` : type;
    })
    .join(' or ');
}

/** What a field's cell says: its description, and its default when it has one. */
function describe(schema: Schema): string {
  const parts = [schema.description ?? ''];
  if (schema.maxLength !== undefined) parts.push(`At most ${schema.maxLength} characters.`);
  else if (schema.minLength) parts.push('Not empty.');
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum} to ${schema.maximum}.`);
  if (schema.maxItems !== undefined) parts.push(`At most ${schema.maxItems} items.`);
  if (schema.default !== undefined) parts.push(`Default: \`${JSON.stringify(schema.default)}\`.`);
  return parts.filter(Boolean).join(' ');
}

export function renderApiReference(document: Document = buildOpenApiDocument(placeholderServer) as unknown as Document): string {
  const components = document.components?.schemas ?? {};
  /** A schema with its `$ref` followed, the reference's own description kept. */
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? { ...resolve(components[refName(schema.$ref)] ?? {}), ...(schema.description ? { description: schema.description } : {}) } : schema;
  /** The object a field holds, when it holds one with named fields (also when it may be null). */
  const objectOf = (schema: Schema): Schema | undefined => {
    const resolved = resolve(schema);
    if (resolved.properties) return resolved;
    const objects = (resolved.anyOf ?? []).map(resolve).filter((variant) => variant.properties);
    return objects.length === 1 ? objects[0] : undefined;
  };

  /** Rows for a body's fields; an object field's own fields follow it as `field.name`, one level deep. */
  const fieldRows = (schema: Schema, prefix = '', depth = 0): string[][] => {
    const object = objectOf(schema);
    if (!object?.properties) return [];
    return Object.entries(object.properties).flatMap(([name, field]) => {
      const row = [`\`${prefix}${name}\``, typeOf(field), object.required?.includes(name) ? 'yes' : 'no', describe(resolve(field))];
      const nested = depth === 0 && !field.$ref?.endsWith('/SegmentRule') ? fieldRows(field, `${prefix}${name}.`, 1) : [];
      return [row, ...nested];
    });
  };

  const renderOperation = (method: string, path: string, operation: Operation): string => {
    const out = [`### \`${method.toUpperCase()} ${path}\``, ''];
    if (operation.summary) out.push(`${operation.summary}.`, '');
    if (operation.description) out.push(operation.description, '');
    out.push(operation.security?.length ? '**Security:** bearer token (`Authorization: Bearer <token>`: a personal API token or ADMIN_TOKEN), with a role allowed to use the route (see docs/team.md).' : '**Security:** public, no token.', '');

    if (operation.parameters?.length) {
      const rows = operation.parameters.map((p) => [`\`${p.name}\``, p.in, p.required ? 'yes' : 'no', typeOf(p.schema), describe({ ...p.schema, description: p.description ?? p.schema?.description })]);
      out.push('**Parameters**', '', table(['name', 'in', 'required', 'type', 'description'], rows), '');
    }

    const body = operation.requestBody;
    if (body) {
      out.push(`**Request body**${body.required ? '' : ' (optional)'}`, '');
      for (const [contentType, { schema }] of Object.entries(body.content)) {
        const rows = schema ? fieldRows(schema) : [];
        const kind = schema && !rows.length ? `: ${typeOf(schema)}` : '';
        const note = schema && !rows.length && resolve(schema).description ? ` ${resolve(schema).description}` : '';
        out.push(`\`${contentType}\`${kind}.${note}`, '');
        if (rows.length) out.push(table(['field', 'type', 'required', 'description'], rows), '');
      }
    }

    const responseRows = Object.entries(operation.responses).map(([status, response]) => [
      status,
      response.description,
      Object.keys(response.content ?? {}).map((type) => `\`${type}\``).join(', ') || '—',
    ]);
    out.push('**Responses**', '', table(['status', 'description', 'content type'], responseRows), '');
    return out.join('\n');
  };

  const byTag = new Map<string, string[]>();
  for (const tag of document.tags ?? []) byTag.set(tag.name, []);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of methods) {
      const operation = item[method];
      if (!operation) continue;
      const tag = operation.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(renderOperation(method, path, operation));
    }
  }

  const intro = [
    '# API reference',
    '',
    '<!-- Generated from the OpenAPI description by scripts/api-reference.ts. Do not edit by hand: run `npm run docs:api`. -->',
    '',
    'Every route of Herald’s HTTP API outside `/admin`, rendered from the OpenAPI 3.1 description that',
    'a running installation serves at `GET /openapi.json` (public, no token; its `servers` entry is',
    'that installation’s `PUBLIC_URL`). The description is the one to load into an API tool or client',
    'generator; this page is for reading it. What the routes do, in prose: [HTTP API](api.md).',
    '',
    '- **Authentication.** Admin routes take `Authorization: Bearer <token>`: a personal API token,',
    '  which acts with its role, or `ADMIN_TOKEN`, the owner’s bootstrap token. A route the role may',
    '  not use answers `403` with `{"error": {"code": "forbidden"}}`; which role may use which route is',
    '  in [Team](team.md). Five wrong tokens from one address within 15 minutes answer `429` until the',
    '  window ends. Routes marked public need no token.',
    '- **Errors** are always JSON `{"error": {"code", "message", "fields"?}}` with a 4xx or 5xx status;',
    '  `fields` names each invalid field (`invalid_request`). A browser, whose `Accept` prefers',
    '  `text/html`, gets the same error as a page, hence the `text/html` beside error answers below.',
    '- **Paging.** Lists answer a page and `nextCursor`: pass it as `cursor` for the next page; it is',
    '  `null` on the last page. `limit` sets the page size where a route takes one.',
    '',
    'This file is generated from `apps/web/src/openapi/`. Do not edit it by hand: change the',
    'description, then run `npm run docs:api` (a test fails while the two differ).',
    '',
  ];

  const sections: string[] = [];
  const tagDescription = new Map((document.tags ?? []).map((tag) => [tag.name, tag.description]));
  for (const [tag, operations] of byTag) {
    if (!operations.length) continue;
    sections.push(`## ${tag}`, '');
    if (tagDescription.get(tag)) sections.push(`${tagDescription.get(tag)}`, '');
    sections.push(...operations);
  }
  return `${[...intro, ...sections].join('\n').trimEnd()}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(referencePath, renderApiReference());
  console.log(`wrote ${referencePath}`);
}
