import type { Request } from 'express';
import type { Flash } from './session';

export function flash(req: Request, kind: Flash['kind'], message: string): void {
  (req.session.flash ??= []).push({ kind, message });
}

export function takeFlash(req: Request): Flash[] {
  const messages = req.session?.flash ?? [];
  if (req.session?.flash) delete req.session.flash;
  return messages;
}
