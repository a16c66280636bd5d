import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { Utf8Check } from './csvRows';
import { ImportFileError } from './types';

/**
 * Streams one uploaded CSV file (multipart field `file`) to DATA_DIR/imports/<random>.csv: never
 * the whole file in memory. On the way it computes the SHA-256 and size, enforces the size limit,
 * and checks the encoding (strict UTF-8 with the line of the first bad byte; UTF-16, Excel
 * workbooks, NUL bytes and empty files are recognised), so a bad file is refused before it is queued.
 */

export interface StoredUpload {
  /** The name the browser gave (for display only). */
  filename: string;
  filePath: string;
  bytes: number;
  sha256: string;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024 / 1024).toFixed(bytes % (1024 * 1024 * 1024) ? 1 : 0)} GB`;
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / 1024 / 1024)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export function tooLargeError(maxBytes: number): ImportFileError {
  return new ImportFileError(
    `The file is larger than the import limit of ${formatBytes(maxBytes)} (CONSENT_IMPORT_MAX_MB): split it into smaller files, or ask your provider to raise the limit.`,
    413,
  );
}

/** Counts and hashes the bytes flowing through. */
class Digest extends Transform {
  readonly hash = crypto.createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** A fresh, unguessable file name under `dir`. */
export function newImportPath(dir: string): string {
  return path.join(dir, `${crypto.randomBytes(16).toString('hex')}.csv`);
}

export async function receiveCsvUpload(req: Request, opts: { dir: string; maxBytes: number }): Promise<StoredUpload> {
  if (!req.is('multipart/form-data')) throw new ImportFileError('Choose a CSV file to upload (the form must be sent as multipart/form-data).', 415);
  const declared = Number(req.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes + 64 * 1024) throw tooLargeError(opts.maxBytes);
  await fs.promises.mkdir(opts.dir, { recursive: true, mode: 0o700 });

  return new Promise<StoredUpload>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: opts.maxBytes, fields: 20, parts: 22, fieldSize: 64 * 1024 } });
    } catch {
      reject(new ImportFileError('The upload is not a valid form submission: choose the file again and send the form.', 400));
      return;
    }
    let work: Promise<StoredUpload> | null = null;
    let failure: Error | null = null;

    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || work) {
        stream.resume();
        return;
      }
      const filename = path.basename(info.filename ?? '').slice(0, 255);
      if (!filename) {
        stream.resume();
        failure = new ImportFileError('Choose a CSV file to upload.');
        return;
      }
      const filePath = newImportPath(opts.dir);
      let truncated = false;
      stream.on('limit', () => {
        truncated = true;
      });
      const digest = new Digest();
      work = pipeline(stream, new Utf8Check(1, true), digest, fs.createWriteStream(filePath, { flags: 'wx', mode: 0o600 }))
        .then(() => {
          if (truncated) throw tooLargeError(opts.maxBytes);
          return { filename, filePath, bytes: digest.bytes, sha256: digest.hash.digest('hex') };
        })
        .catch(async (err: unknown) => {
          stream.resume();
          await fs.promises.rm(filePath, { force: true });
          throw err;
        });
    });
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (!work) {
        reject(failure ?? new ImportFileError('Choose a CSV file to upload.'));
        return;
      }
      work.then(
        async (upload) => {
          if (!failure) return resolve(upload);
          await fs.promises.rm(upload.filePath, { force: true });
          reject(failure);
        },
        (err: unknown) => reject(failure ?? err),
      );
    };
    parser.on('error', () => {
      failure ??= new ImportFileError('The upload was interrupted or is not a valid form submission: send the form again.', 400);
      finish();
    });
    parser.on('close', finish);
    req.on('aborted', () => {
      failure ??= new ImportFileError('The upload was interrupted: send the form again.', 400);
      parser.destroy();
    });
    req.pipe(parser);
  });
}
