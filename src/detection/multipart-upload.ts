import busboy from 'busboy';
import type { Request } from 'express';
import { DomainError } from '../common/errors';
import type { UploadLease } from './upload-budget';

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
 * Streams the multipart body of /sensor/detect/ (the global body parsing skips this route).
 * Enforces the size limits on the bytes actually read (chunked bodies and ignored parts count,
 * spec §11), so an oversized upload is never held in memory. What it buffers is held against the
 * process-wide upload budget (`lease`): the caller reserves a declared Content-Length up front,
 * chunked bodies are counted as they arrive.
 * Duplicate fields and file parts: the first one wins (Django's `request.FILES['file']` takes
 * the last, but the first lets us stop buffering early and is what devices send anyway).
 * A body that is not valid multipart, or ends early, counts as "missing fields" (step 3).
 */
export function readUpload(req: Request, maxFileBytes: number, lease: UploadLease): Promise<RawUpload> {
  const maxBodyBytes = maxFileBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
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
    let bodyBytes = 0;
    const fail = (err: unknown): void => {
      if (settled) {
        return;
      }
      settled = true;
      req.off('data', onBody);
      req.unpipe(bb); // the rest is drained (bounded) or the socket closed after the answer
      reject(err);
    };
    const onBody = (chunk: Buffer): void => {
      bodyBytes += chunk.length;
      if (bodyBytes > maxBodyBytes) {
        fail(fileTooLarge());
      }
    };
    req.on('data', onBody);
    bb.on('field', (name, value) => {
      if (name === 'zone_id' && out.zoneId === undefined) {
        out.zoneId = value;
      } else if (name === 'camera_id' && out.cameraId === undefined) {
        out.cameraId = value;
      }
    });
    bb.on('file', (name, stream, info) => {
      // a body that ends inside a file part makes its stream emit 'error': unhandled, it kills the process
      stream.on('error', () => fail(missingFields()));
      if (name !== 'file' || out.file !== undefined || settled) {
        stream.resume();
        return;
      }
      // with a declared length (already reserved in the lease) the image is copied into one buffer
      // as it arrives, so it is held once, not as chunks plus their concatenation
      const whole = Number.isFinite(declared) ? Buffer.allocUnsafe(Math.min(declared, maxFileBytes)) : null;
      const chunks: Buffer[] = [];
      let size = 0;
      const file = { buffer: Buffer.alloc(0), filename: info.filename ?? '' };
      out.file = file;
      stream.on('data', (chunk: Buffer) => {
        if (settled) {
          return;
        }
        if (size + chunk.length > maxFileBytes) {
          fail(fileTooLarge());
          return;
        }
        if (whole) {
          chunk.copy(whole, size);
        } else {
          try {
            lease.add(chunk.length);
          } catch (err) {
            fail(err);
            return;
          }
          chunks.push(chunk);
        }
        size += chunk.length;
      });
      stream.on('end', () => {
        file.buffer = whole ? whole.subarray(0, size) : Buffer.concat(chunks, size);
      });
    });
    bb.on('error', () => fail(missingFields()));
    bb.on('close', () => {
      if (!settled) {
        settled = true;
        req.off('data', onBody);
        resolve(out);
      }
    });
    req.on('error', () => fail(missingFields()));
    req.on('aborted', () => fail(missingFields()));
    req.pipe(bb);
  });
}
