import type { Writable } from 'node:stream';
import type { Request, Response } from 'express';

/**
 * Answers with a CSV download that `write` streams into the response. A writer reads its first
 * page before writing anything, so a failure then still reaches the error handler as an error
 * status; after the first byte the response can only be cut off, which a CSV client notices as a
 * truncated download, and the failure is logged.
 */
export async function sendCsv(req: Request, res: Response, filename: string, write: (out: Writable) => Promise<void>): Promise<void> {
  res.status(200).set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${filename}-${new Date().toISOString().slice(0, 10)}.csv"`,
    'Cache-Control': 'no-store',
  });
  try {
    await write(res);
  } catch (err) {
    if (!res.headersSent) {
      res.removeHeader('Content-Type');
      res.removeHeader('Content-Disposition');
      throw err;
    }
    if (!res.writableFinished && !req.destroyed) req.log.error({ err }, `${filename} export failed midway`);
  }
}
