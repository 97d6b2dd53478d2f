import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import { HttpError } from '../http/http-error.js';

export type Upload = { fields: Record<string, string>; file: Readable; filename: string };

/**
 * Reads a `multipart/form-data` form with one file, streaming: resolves as soon as the file part
 * starts, with the fields sent before it (the form puts its CSRF token and options first) and the
 * file as a stream, so a large CSV never sits in memory. Fields after the file are ignored.
 */
export function readUpload(req: Request, options: { maxBytes: number }): Promise<Upload> {
  if (!req.is('multipart/form-data')) throw new HttpError(415, 'unsupported_media_type', 'Send the file from the upload form.');
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 4096, fileSize: options.maxBytes } });
    } catch {
      return reject(new HttpError(400, 'bad_request', 'The upload is malformed.'));
    }
    const fields: Record<string, string> = {};
    let settled = false;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, file, info) => {
      settled = true;
      resolve({ fields, file, filename: info.filename ?? '' });
    });
    parser.on('error', () => {
      if (!settled) reject(new HttpError(400, 'bad_request', 'The upload is malformed.'));
    });
    parser.on('close', () => {
      if (!settled) reject(new HttpError(400, 'bad_request', 'Choose a CSV file to import.'));
    });
    req.pipe(parser);
  });
}
