import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { requireAdminToken } from '../http/admin-auth.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { eraseSubscriber } from '../subscribers/erase-subscriber.js';
import { exportSubscriberData } from '../subscribers/export-subscriber-data.js';
import { importSubscribers } from '../subscribers/import-subscribers.js';
import { listSubscribers, listSubscribersQuery } from '../subscribers/list-subscribers.js';
import { readImportCsv } from '../subscribers/read-import-csv.js';
import { subscriberStatuses } from '../subscribers/subscriber-view.js';
import { writeSubscribersCsv } from '../subscribers/write-subscribers-csv.js';

export type SubscriberRouteOptions = {
  /** Largest import body accepted, in bytes. */
  maxImportBytes?: number;
};

const defaultMaxImportBytes = 200 * 1024 * 1024;

const importQuery = z.object({
  consent: z.literal('confirmed', { error: 'consent must be "confirmed", or left out' }).optional(),
});
const exportQuery = z.object({ status: z.enum(subscriberStatuses).optional() });

/** UTF-8 only; US-ASCII is a subset of it. Compressed uploads are not decoded. */
function requireCsvBody(req: Request): void {
  if (!req.is('text/csv')) throw new HttpError(415, 'unsupported_media_type', 'Send the file with Content-Type: text/csv.');
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    throw new HttpError(415, 'unsupported_charset', 'Import files must be UTF-8.');
  }
  const encoding = req.get('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') throw new HttpError(415, 'unsupported_encoding', 'Send the file uncompressed.');
}

/** The admin subscriber API: list, import, export, erase. */
export function subscriberRoutes(deps: WebDeps, options: SubscriberRouteOptions = {}): Router {
  const { db } = deps;
  const maxImportBytes = options.maxImportBytes ?? defaultMaxImportBytes;
  const router = Router();
  const auth = requireAdminToken(deps);

  router.get('/subscribers', auth, async (req, res) => {
    res.json(await listSubscribers(db, parseRequest(listSubscribersQuery, req.query, 'query')));
  });

  router.post('/subscribers/import', auth, async (req, res) => {
    try {
      requireCsvBody(req);
      const { consent } = parseRequest(importQuery, req.query, 'query');
      if (Number(req.get('content-length')) > maxImportBytes) {
        throw new HttpError(413, 'payload_too_large', `Import files are limited to ${Math.floor(maxImportBytes / 1024 / 1024)} MB.`);
      }
      const rows = await readImportCsv(req, { maxBytes: maxImportBytes });
      res.json(await importSubscribers({ ...deps, logger: req.log }, rows, { consentConfirmed: consent === 'confirmed' }));
    } catch (err) {
      // Refused before the upload finished: answer now, discard the rest and close the connection,
      // rather than reading up to 200 MB nobody will use.
      if (!req.readableEnded) {
        res.set('Connection', 'close');
        req.unpipe();
        req.resume();
      }
      throw err;
    }
  });

  router.get('/subscribers/export', auth, async (req, res) => {
    const { status } = parseRequest(exportQuery, req.query, 'query');
    res.status(200).set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="subscribers-${new Date().toISOString().slice(0, 10)}.csv"`,
      'Cache-Control': 'no-store',
    });
    try {
      await writeSubscribersCsv(db, res, { status });
    } catch (err) {
      // Before the first byte the error handler can still answer; after it the response is cut off,
      // which a CSV client notices as a truncated download.
      if (!res.headersSent) {
        res.removeHeader('Content-Type');
        res.removeHeader('Content-Disposition');
        throw err;
      }
      if (!res.writableFinished && !req.destroyed) req.log.error({ err }, 'subscriber export failed midway');
    }
  });

  router.delete('/subscribers/:id', auth, async (req, res) => {
    if (!(await eraseSubscriber(db, parseId(req.params.id, 'subscriber')))) throw new HttpError(404, 'not_found', 'No subscriber with that id.');
    res.status(204).end();
  });

  router.get('/subscribers/:id/export', auth, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const data = await exportSubscriberData(db, id);
    if (!data) throw new HttpError(404, 'not_found', 'No subscriber with that id.');
    res.set({ 'Content-Disposition': `attachment; filename="subscriber-${id}.json"`, 'Cache-Control': 'no-store' }).json(data);
  });

  return router;
}
