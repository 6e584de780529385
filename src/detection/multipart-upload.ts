import busboy from 'busboy';
import type { Request } from 'express';
import { DomainError } from '../common/errors';

/** What the sensor sent, before any validation: text fields and the first `file` part. */
export interface RawUpload {
  zoneId: string | undefined;
  cameraId: string | undefined;
  file: { buffer: Buffer; filename: string } | undefined;
}

/** Multipart framing allowance on top of the image itself (spec §5 step 2). */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;

export const fileTooLarge = (): DomainError => new DomainError('payload_too_large', 'File too large', { envelope: 'error' });
export const missingFields = (): DomainError => new DomainError('bad_request', "Missing 'zone_id' or 'file'", { envelope: 'error' });

/**
 * Streams the multipart body of /sensor/detect/ (the global body parser skips this path).
 * Enforces the size limit while reading, so an oversized upload is never held in memory.
 * Duplicate fields and file parts: the first one wins (Django's `request.FILES['file']` takes
 * the last, but the first lets us stop buffering early and is what devices send anyway).
 * A body that is not valid multipart counts as "missing fields" (step 3).
 */
export function readUpload(req: Request, maxFileBytes: number): Promise<RawUpload> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxFileBytes + MULTIPART_OVERHEAD_BYTES) {
    return Promise.reject(fileTooLarge());
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      limits: { fieldSize: MAX_FIELD_BYTES, fields: 100, files: 20, parts: 200, headerPairs: 100 },
    });
  } catch {
    return Promise.reject(missingFields()); // not multipart, or no boundary
  }
  return new Promise<RawUpload>((resolve, reject) => {
    const out: RawUpload = { zoneId: undefined, cameraId: undefined, file: undefined };
    let settled = false;
    const fail = (err: DomainError): void => {
      if (settled) {
        return;
      }
      settled = true;
      req.unpipe(bb);
      req.resume(); // discard the rest so the response can still be read by the client
      reject(err);
    };
    bb.on('field', (name, value) => {
      if (name === 'zone_id' && out.zoneId === undefined) {
        out.zoneId = value;
      } else if (name === 'camera_id' && out.cameraId === undefined) {
        out.cameraId = value;
      }
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || out.file !== undefined || settled) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const file = { buffer: Buffer.alloc(0), filename: info.filename ?? '' };
      out.file = file;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxFileBytes) {
          stream.resume();
          fail(fileTooLarge());
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        file.buffer = Buffer.concat(chunks, Math.min(size, maxFileBytes));
      });
    });
    bb.on('error', () => fail(missingFields()));
    bb.on('close', () => {
      if (!settled) {
        settled = true;
        resolve(out);
      }
    });
    req.on('error', () => fail(missingFields()));
    req.on('aborted', () => fail(missingFields()));
    req.pipe(bb);
  });
}
