import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import express from 'express';
import type { Express, RequestHandler } from 'express';
import { buildOpenApiDocument } from '../../apps/web/src/openapi/document.js';
import { recordAnswerViolation } from './answer-violations.js';

/**
 * Every answer the test suite receives from the web app, checked against the API description
 * (`/openapi.json`): the route and method must be described, the status must be one of the
 * operation's answers, the content type one of that answer's, and a JSON body must validate against
 * its schema (Ajv, JSON Schema 2020-12, which OpenAPI 3.1 schemas are). Problems are recorded, not
 * thrown, so the app answers exactly as it would; the hook in api-description-hooks.ts fails the
 * test they happened in.
 *
 * Not checked: the admin pages and their assets (`/admin/*`, `/static/*`), which are HTML for the
 * admin's browser and not part of the API.
 */

type Operation = { responses?: Record<string, { content?: Record<string, unknown> }> };
type PathItem = Partial<Record<string, Operation>>;
type Document = { paths: Record<string, PathItem> };

export type Answer = {
  method: string;
  /** The request's path, without the query. */
  path: string;
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Whether one of the app's routes answered (false: the catch-all 404 for an unknown address). */
  routeMatched: boolean;
};

const skipped = [/^\/admin(\/|$)/, /^\/static\//];

/** `/campaigns/{id}/tasks` as a matcher, with how specific it is (literal segments count more). */
type Template = { path: string; pattern: RegExp; literals: number };

function compileTemplates(document: Document): Template[] {
  return Object.keys(document.paths)
    .map((path) => {
      const segments = path.split('/').slice(1);
      const pattern = new RegExp(`^/${segments.map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : escapeRegExp(segment))).join('/')}$`);
      return { path, pattern, literals: segments.filter((segment) => !segment.startsWith('{')).length };
    })
    .sort((a, b) => b.literals - a.literals);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** JSON Pointer escaping of one reference token. */
const pointerToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export type AnswerChecker = { check(answer: Answer): string | undefined };

/** A checker of answers against `document`, an OpenAPI 3.1 document. */
export function createAnswerChecker(document: Document): AnswerChecker {
  const templates = compileTemplates(document);
  // strict: false lets the OpenAPI keywords around the schemas (paths, responses, …) be; every
  // schema inside is still compiled by the 2020-12 rules.
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  ajv.addSchema(document, 'openapi.json');
  const validators = new Map<string, ValidateFunction>();

  const validatorFor = (pointer: string) => {
    let validate = validators.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
      validators.set(pointer, validate);
    }
    return validate;
  };

  return {
    check(answer) {
      const method = answer.method === 'HEAD' ? 'get' : answer.method.toLowerCase();
      const where = `${answer.method} ${answer.path} → ${answer.status}`;
      const matching = templates.filter((template) => template.pattern.test(answer.path));
      const template = matching.find((candidate) => document.paths[candidate.path]?.[method]);
      if (!template) {
        // An address no route answers gets the catch-all 404, which is not an operation.
        if (!answer.routeMatched && answer.status === 404) return undefined;
        return `${where}: no such operation in the API description`;
      }
      const responses = document.paths[template.path]![method]!.responses ?? {};
      const status = String(answer.status);
      const key = status in responses ? status : `${status[0]}XX` in responses ? `${status[0]}XX` : 'default' in responses ? 'default' : undefined;
      if (!key) return `${where}: status ${status} is not among the answers described for ${method.toUpperCase()} ${template.path} (${Object.keys(responses).join(', ')})`;
      const response = responses[key]!;
      if (answer.method === 'HEAD' || answer.body.length === 0 || (answer.status >= 300 && answer.status < 400)) return undefined;
      const mediaType = answer.contentType?.split(';')[0]?.trim().toLowerCase();
      const described = Object.keys(response.content ?? {});
      if (!mediaType || !described.includes(mediaType)) {
        return `${where}: answered ${mediaType ?? 'a body without a content type'}, described: ${described.join(', ') || 'no body'}`;
      }
      if (mediaType !== 'application/json') return undefined;
      let body: unknown;
      try {
        body = JSON.parse(answer.body.toString('utf8'));
      } catch {
        return `${where}: the body is not JSON`;
      }
      const pointer = `/paths/${pointerToken(template.path)}/${method}/responses/${key}/content/${pointerToken(mediaType)}/schema`;
      const validate = validatorFor(pointer);
      if (validate(body)) return undefined;
      const problems = (validate.errors ?? []).slice(0, 8).map((error) => `${error.instancePath || '(body)'} ${error.message}${error.params && 'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`);
      return `${where}: the body does not match the description: ${problems.join('; ')}\n  body: ${answer.body.toString('utf8').slice(0, 400)}`;
    },
  };
}

let sharedChecker: AnswerChecker | undefined;

/** The checker over the description the app serves, built once per test worker. */
export function answerChecker(): AnswerChecker {
  sharedChecker ??= createAnswerChecker(buildOpenApiDocument('http://herald.test') as unknown as Document);
  return sharedChecker;
}

/** Bodies beyond this are not kept whole (a million task ids is 39 MB); their check is skipped. */
const maxKeptBytes = 64 * 1024 * 1024;

/**
 * Middleware that records, when each answer has gone out, whatever `checker` finds wrong with it.
 * It copies what the app writes and changes nothing of it.
 */
export function recordAnswers(checker: AnswerChecker = answerChecker(), record: (problem: string) => void = recordAnswerViolation): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (skipped.some((pattern) => pattern.test(path))) return next();
    const chunks: Buffer[] = [];
    let kept = 0;
    let overflow = false;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || overflow) return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      kept += buffer.length;
      if (kept > maxKeptBytes) overflow = true;
      else chunks.push(buffer);
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as typeof res.end;
    const method = req.method;
    res.on('finish', () => {
      if (overflow) return;
      const contentType = res.getHeader('content-type');
      const problem = checker.check({
        method,
        path,
        status: res.statusCode,
        contentType: typeof contentType === 'string' ? contentType : undefined,
        body: Buffer.concat(chunks),
        routeMatched: Boolean(req.route),
      });
      if (problem) record(problem);
    });
    next();
  };
}

/** `app` behind recordAnswers: what the test suite drives instead of the bare app. */
export function checkAnswers(app: Express, checker?: AnswerChecker, record?: (problem: string) => void): Express {
  const outer = express();
  outer.disable('x-powered-by');
  outer.use(recordAnswers(checker, record));
  outer.use(app);
  return outer;
}
