import { Router } from 'express';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { createListInput, editListInput, listRefOf } from '../lists/list-schema.js';
import { createList, editList, findList, listLists, removeList } from '../lists/list-queries.js';
import type { ListView } from '../lists/list-queries.js';
import { auditRequest, listTarget } from '../team/audit.js';
import { auditListChange } from '../team/audit-changes.js';
import type { AdminContext } from './admin-context.js';

/** The list form's fields as typed, for re-rendering it with its errors. */
type ListFormValues = {
  name: string;
  slug: string;
  description: string;
  visibility: string;
  doubleOptIn: boolean;
  welcomeSubject: string;
  welcomeBody: string;
  welcomeFormat: string;
};

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function formValues(body: unknown): ListFormValues {
  const fields = (body ?? {}) as Record<string, unknown>;
  return {
    name: text(fields.name),
    slug: text(fields.slug).trim(),
    description: text(fields.description),
    visibility: text(fields.visibility),
    doubleOptIn: fields.doubleOptIn === 'yes',
    welcomeSubject: text(fields.welcomeSubject),
    welcomeBody: text(fields.welcomeBody),
    welcomeFormat: text(fields.welcomeFormat) || 'markdown',
  };
}

function valuesOf(list: ListView): ListFormValues {
  return {
    name: list.name,
    slug: list.slug,
    description: list.description ?? '',
    visibility: list.visibility,
    doubleOptIn: list.doubleOptIn,
    welcomeSubject: list.welcome?.subject ?? '',
    welcomeBody: list.welcome?.body ?? '',
    welcomeFormat: list.welcome?.format ?? 'markdown',
  };
}

/**
 * The form as API input: a blank slug is derived from the name, a blank description is none, and
 * the welcome email is there when its subject or body is filled in (both are then needed).
 */
function inputOf(values: ListFormValues, editing: boolean) {
  const wantsWelcome = values.welcomeSubject.trim() !== '' || values.welcomeBody.trim() !== '';
  const welcome = wantsWelcome ? { subject: values.welcomeSubject, body: values.welcomeBody, format: values.welcomeFormat } : editing ? null : undefined;
  return {
    name: values.name,
    ...(values.slug ? { slug: values.slug } : {}),
    description: values.description.trim() ? values.description : editing ? null : undefined,
    visibility: values.visibility,
    doubleOptIn: values.doubleOptIn,
    welcome,
  };
}

/** Form field names for the schema's paths (`welcome.subject` → `welcomeSubject`). */
function formErrors(error: z.ZodError): Record<string, string> {
  const fields = fieldErrors(error);
  const renamed: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    const name = key === 'welcome.subject' ? 'welcomeSubject' : key === 'welcome.body' ? 'welcomeBody' : key === 'welcome.format' ? 'welcomeFormat' : key;
    renamed[name] ??= message;
  }
  return renamed;
}

/** The embed snippet: a plain HTML form, no script, that posts to the list's public signup. */
export function embedSnippet(publicUrl: string, slug: string, redirect: string): string {
  return [
    `<form method="post" action="${publicUrl}/l/${slug}">`,
    '  <label>Email <input type="email" name="email" required autocomplete="email"></label>',
    '  <label>Name <input type="text" name="name" autocomplete="name"></label>',
    `  <input type="hidden" name="redirect" value="${redirect}">`,
    '  <button type="submit">Subscribe</button>',
    '</form>',
  ].join('\n');
}

const notices: Record<string, string> = {
  created: 'The list was created.',
  saved: 'Changes saved.',
  deleted: 'The list was deleted.',
  archived: 'Campaigns went to the list, so it was archived rather than deleted: it takes no new subscribers and is no longer offered.',
};

/** Lists: all of them with their counts, create, edit, one list's page with its embed snippet, delete. */
export function listPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, config } = deps;
  const router = Router();

  const findOr404 = async (raw: unknown): Promise<ListView> => {
    const ref = listRefOf(raw);
    const list = ref === undefined ? null : await findList(db, ref);
    if (!list) throw new HttpError(404, 'not_found', 'No list with that id. It may have been deleted.');
    return list;
  };

  router.get('/admin/lists', ...can('audiences:read'), async (req, res) => {
    const notice = typeof req.query.notice === 'string' ? (notices[req.query.notice] ?? null) : null;
    render(req, res, 'lists', { title: 'Lists', lists: await listLists(db, { includeArchived: true }), notice });
  });

  const showForm = (req: Request, res: Response, locals: { list: ListView | null; values: ListFormValues; errors: Record<string, string> }) => {
    render(req, res, 'lists-edit', { title: locals.list ? `Edit ${locals.list.name}` : 'New list', ...locals });
  };

  router.get('/admin/lists/new', ...can('audiences:write'), (req, res) => {
    showForm(req, res, {
      list: null,
      values: { name: '', slug: '', description: '', visibility: 'public', doubleOptIn: true, welcomeSubject: '', welcomeBody: '', welcomeFormat: 'markdown' },
      errors: {},
    });
  });

  router.post('/admin/lists', ...can('audiences:write'), form, security.csrfProtection, async (req, res) => {
    const values = formValues(req.body);
    const parsed = createListInput.safeParse(inputOf(values, false));
    if (!parsed.success) {
      res.status(422);
      return showForm(req, res, { list: null, values, errors: formErrors(parsed.error) });
    }
    const result = await createList(db, parsed.data);
    if (!result.created) {
      res.status(409);
      return showForm(req, res, { list: null, values, errors: { slug: `Another list already has the slug “${result.slug}”.` } });
    }
    await auditRequest(db, req, res, 'list.created', listTarget(result.list), { slug: result.list.slug });
    res.redirect(303, `/admin/lists/${result.list.id}?notice=created`);
  });

  router.get('/admin/lists/:id', ...can('audiences:read'), async (req, res) => {
    const list = await findOr404(req.params.id);
    const notice = typeof req.query.notice === 'string' ? (notices[req.query.notice] ?? null) : null;
    const redirect = `${config.signupRedirectOrigins[0] ?? 'https://your-site.example'}/thanks`;
    render(req, res, 'lists-show', {
      title: list.name,
      list,
      notice,
      snippet: embedSnippet(config.publicUrl, list.slug, redirect),
      redirectOrigins: config.signupRedirectOrigins,
      publicUrl: config.publicUrl,
    });
  });

  router.get('/admin/lists/:id/edit', ...can('audiences:write'), async (req, res) => {
    const list = await findOr404(req.params.id);
    if (list.archivedAt) throw new HttpError(409, 'invalid_state', 'The list is archived; an archived list cannot be edited.');
    showForm(req, res, { list, values: valuesOf(list), errors: {} });
  });

  router.post('/admin/lists/:id', ...can('audiences:write'), form, security.csrfProtection, async (req, res) => {
    const list = await findOr404(req.params.id);
    const values = formValues(req.body);
    const parsed = editListInput.safeParse(inputOf(values, true));
    if (!parsed.success) {
      res.status(422);
      return showForm(req, res, { list, values, errors: formErrors(parsed.error) });
    }
    const result = await editList(db, list.id, parsed.data);
    if (result.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No list with that id. It may have been deleted.');
    if (result.outcome === 'archived') throw new HttpError(409, 'invalid_state', 'The list is archived; an archived list cannot be edited.');
    if (result.outcome === 'slug_taken') {
      res.status(409);
      return showForm(req, res, { list, values, errors: { slug: `Another list already has the slug “${result.slug}”.` } });
    }
    await auditListChange(db, req, res, result);
    res.redirect(303, `/admin/lists/${list.id}?notice=saved`);
  });

  router.post('/admin/lists/:id/delete', ...can('audiences:write'), form, security.csrfProtection, async (req, res) => {
    const list = await findOr404(req.params.id);
    const result = await removeList(db, list.id);
    if (result.outcome === 'default') throw new HttpError(409, 'invalid_state', 'The default list cannot be deleted.');
    if (result.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No list with that id. It may have been deleted.');
    await auditRequest(db, req, res, result.outcome === 'archived' ? 'list.archived' : 'list.deleted', listTarget(result.list));
    if (result.outcome === 'archived') return res.redirect(303, `/admin/lists/${list.id}?notice=archived`);
    res.redirect(303, '/admin/lists?notice=deleted');
  });

  return router;
}
