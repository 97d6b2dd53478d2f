import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

/**
 * `express.json` that refuses a body that is not valid UTF-8 (400) instead of letting the decoder
 * turn the bad bytes into U+FFFD and storing text the client never sent.
 */
export function jsonBody(limit: string): RequestHandler {
  return express.json({
    limit,
    verify(_req, _res, body, encoding) {
      if (/^utf-?8$/i.test(encoding) && !isUtf8(body)) {
        throw Object.assign(new Error('The request body is not valid UTF-8.'), { status: 400, type: 'entity.encoding.invalid' });
      }
    },
  });
}

/** For endpoints that take JSON only: anything else is 415 before a byte of it is parsed. */
export function requireJsonBody(limit: string): RequestHandler[] {
  const refuseOtherTypes: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Send JSON with Content-Type: application/json.');
    }
    next();
  };
  return [refuseOtherTypes, jsonBody(limit)];
}
