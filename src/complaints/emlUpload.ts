import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../lib/errors';

export interface UploadedMessage {
  filename: string;
  /** The file's bytes, or null when it was over the limit (the rest of it was not read). */
  bytes: Buffer | null;
}

/** At most this many files per upload: enough for a morning's feedback loop mail, bounded for memory. */
export const maxFilesPerUpload = 50;

/**
 * Reads the `.eml` files of a multipart upload (field `files`) into memory, each up to `maxBytes`;
 * an oversized file is reported as such, not silently cut.
 */
export function receiveEmlFiles(req: Request, maxBytes: number): Promise<UploadedMessage[]> {
  if (!req.is('multipart/form-data')) return Promise.reject(new AppError(415, 'unsupported_media_type', 'Choose .eml files to upload (the form must be sent as multipart/form-data).'));
  return new Promise((resolve, reject) => {
    const files: UploadedMessage[] = [];
    let failed = false;
    const parser = busboy({ headers: req.headers, limits: { files: maxFilesPerUpload, fileSize: maxBytes, fields: 10 } });
    parser.on('file', (field, stream, info) => {
      if (field !== 'files') return stream.resume();
      const chunks: Buffer[] = [];
      const entry: UploadedMessage = { filename: info.filename || `file ${files.length + 1}`, bytes: null };
      files.push(entry);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => chunks.splice(0));
      stream.on('close', () => {
        entry.bytes = (stream as unknown as { truncated?: boolean }).truncated ? null : Buffer.concat(chunks);
      });
    });
    parser.on('filesLimit', () => {
      failed = true;
      reject(new AppError(413, 'too_many_files', `Upload at most ${maxFilesPerUpload} files at once.`));
    });
    parser.on('error', (err: Error) => {
      failed = true;
      reject(new AppError(400, 'bad_upload', `The upload could not be read: ${err.message}`));
    });
    parser.on('close', () => {
      if (failed) return;
      if (!files.length) reject(new AppError(422, 'no_files', 'Choose one or more .eml files to upload.'));
      else resolve(files);
    });
    req.pipe(parser);
  });
}
