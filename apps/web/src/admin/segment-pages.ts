import express, { Router } from 'express';
import type { Request, Response } from 'express';
import { parseSegmentRules } from '@herald/shared';
import type { SegmentRule } from '@herald/shared';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';
import { blankRow, rowKinds, rowOfPath, rowsFromRules, rulesFromRows } from '../segments/rule-rows.js';
import type { RuleRow } from '../segments/rule-rows.js';
import { SegmentInputError, parseCreateSegment } from '../segments/segment-input.js';
import { allSegments, createSegment, deleteSegment, findSegment, previewSegment, updateSegment } from '../segments/segment-store.js';
import type { SampleSubscriber } from '../segments/segment-store.js';
import { auditRequest, segmentTarget } from '../team/audit.js';
import { auditSegmentChange } from '../team/audit-changes.js';
import type { AdminContext } from './admin-context.js';

/** Rows the builder offers: the segment's own and a few blank ones. */
const maxRows = 20;
const blankRows = 3;

/** The builder's rows make more fields than the shared admin form parser allows. */
const builderForm = express.urlencoded({ limit: '300kb', extended: false, parameterLimit: 10 + maxRows * 4 });

type FormValues = { name: string; match: 'all' | 'any'; rows: RuleRow[]; json: string };
type Preview = { count: number; sample: SampleSubscriber[] } | null;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** What the form sent: the rows `kind_0`, `name_0`, `op_0`, `value_0`, … and the JSON box. */
function readForm(body: Record<string, unknown>): FormValues {
  const rows: RuleRow[] = [];
  for (let index = 0; index < maxRows; index++) {
    const kind = text(body[`kind_${index}`]);
    if (!(rowKinds as readonly string[]).includes(kind)) continue;
    rows.push({ kind: kind as RuleRow['kind'], name: text(body[`name_${index}`]), op: text(body[`op_${index}`]), value: text(body[`value_${index}`]) });
  }
  return { name: text(body.name), match: body.match === 'any' ? 'any' : 'all', rows, json: text(body.json) };
}

/** The rules the form describes: the JSON box when filled in, else the rows. */
function rulesOfForm(values: FormValues): { rules: unknown; fromJson: boolean } {
  if (values.json.trim() === '') return { rules: rulesFromRows(values), fromJson: false };
  try {
    return { rules: JSON.parse(values.json) as unknown, fromJson: true };
  } catch {
    throw new SegmentInputError({ json: 'is not valid JSON' });
  }
}

/** Form values for a saved segment: rows when they can show it, else its JSON. */
function valuesOf(segment: { name: string; rules: unknown }): FormValues {
  const parsed = parseSegmentRules(segment.rules);
  const rows = parsed.success ? rowsFromRules(parsed.rules) : undefined;
  if (rows) return { name: segment.name, ...rows, json: '' };
  return { name: segment.name, match: 'all', rows: [], json: JSON.stringify(segment.rules, null, 2) };
}

/** Error messages by where they belong: a row (`row_2`), `name`, `json`, or the rules as a whole. */
function placeErrors(fields: Record<string, string>, fromJson: boolean): Record<string, string> {
  const placed: Record<string, string> = {};
  for (const [field, message] of Object.entries(fields)) {
    const row = fromJson ? undefined : rowOfPath(field);
    if (field === 'name' || field === 'json') placed[field] = message;
    else if (row !== undefined) placed[`row_${row}`] ??= `${field.split('.').slice(3).join('.') || 'rule'}: ${message}`;
    else placed.rules ??= fromJson ? `${field}: ${message}` : message.replace(/^all |^any /, 'the rules ');
  }
  return placed;
}

/** Segments: the list, and a page per segment with the rule builder, its live count and a sample. */
export function segmentPages({ deps, security, can, render }: AdminContext): Router {
  const { db } = deps;
  const router = Router();

  router.get('/admin/segments', ...can('audiences:read'), async (req, res) => {
    render(req, res, 'segments', { title: 'Segments', segments: await allSegments(db), notice: req.query.notice === 'deleted' ? 'The segment was deleted.' : null });
  });

  const page = (req: Request, res: Response, locals: { segment: { id: string } | null; values: FormValues; errors: Record<string, string>; preview: Preview; notice?: string | null }) => {
    const rows = [...locals.values.rows, ...Array.from({ length: blankRows }, () => blankRow)].slice(0, maxRows);
    render(req, res, 'segments-edit', { title: locals.segment ? locals.values.name || 'Segment' : 'New segment', notice: null, ...locals, values: { ...locals.values, rows } });
  };

  router.get('/admin/segments/new', ...can('audiences:write'), (req, res) => {
    page(req, res, { segment: null, values: { name: '', match: 'all', rows: [], json: '' }, errors: {}, preview: null });
  });

  router.get('/admin/segments/:id', ...can('audiences:read'), async (req, res) => {
    const segment = await findSegment(db, parseId(req.params.id, 'segment'));
    if (!segment) throw new HttpError(404, 'not_found', 'No segment with that id. It may have been deleted.');
    // Saved rules were valid when saved; a list deleted since holds nobody.
    const preview = await previewSegment(db, segment.rules, { unknownLists: 'match-nobody' });
    page(req, res, { segment, values: valuesOf(segment), errors: {}, preview, notice: req.query.notice === 'saved' ? 'The segment was saved.' : null });
  });

  /** Preview (count and sample, nothing saved) or save, from the same form. */
  const submit = async (req: Request, res: Response, segmentId: string | null) => {
    const values = readForm((req.body ?? {}) as Record<string, unknown>);
    const segment = segmentId ? { id: segmentId } : null;
    let fromJson = values.json.trim() !== '';
    try {
      const form = rulesOfForm(values);
      fromJson = form.fromJson;
      if (req.body?.intent === 'preview') {
        const input = parseCreateSegment({ name: values.name || 'preview', rules: form.rules });
        return page(req, res, { segment, values, errors: {}, preview: await previewSegment(db, input.rules) });
      }
      const input = parseCreateSegment({ name: values.name, rules: form.rules });
      let saved: { id: string };
      if (segmentId) {
        const updated = await updateSegment(db, segmentId, input);
        if (!updated) throw new HttpError(404, 'not_found', 'No segment with that id. It may have been deleted.');
        await auditSegmentChange(db, req, res, updated);
        saved = updated.segment;
      } else {
        const created = await createSegment(db, input as { name: string; rules: SegmentRule });
        await auditRequest(db, req, res, 'segment.created', segmentTarget(created));
        saved = created;
      }
      res.redirect(303, `/admin/segments/${saved.id}?notice=saved`);
    } catch (err) {
      if (!(err instanceof SegmentInputError)) throw err;
      res.status(422);
      page(req, res, { segment, values, errors: placeErrors(err.fields, fromJson), preview: null });
    }
  };

  router.post('/admin/segments', ...can('audiences:write'), builderForm, security.csrfProtection, (req, res) => submit(req, res, null));
  router.post('/admin/segments/:id', ...can('audiences:write'), builderForm, security.csrfProtection, (req, res) => submit(req, res, parseId(req.params.id, 'segment')));

  router.post('/admin/segments/:id/delete', ...can('audiences:write'), builderForm, security.csrfProtection, async (req, res) => {
    const deleted = await deleteSegment(db, parseId(req.params.id, 'segment'));
    if (deleted.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No segment with that id. It may have been deleted already.');
    if (deleted.outcome === 'in_use') throw new HttpError(409, 'invalid_state', 'A campaign was sent to this segment, so it is kept with the campaign.');
    await auditRequest(db, req, res, 'segment.deleted', segmentTarget(deleted.segment));
    res.redirect(303, '/admin/segments?notice=deleted');
  });

  return router;
}
