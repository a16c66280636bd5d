import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The 14 real feedback-loop samples (copied byte for byte from ../shared/fixtures/arf; origins and
 * licences in SOURCES.md beside them). Test data only: they are not part of the product.
 */
export const arfFixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../complaints/parse/fixtures');

/** The .eml file names, in order (01 … 14). */
export function arfFixtureNames(): string[] {
  return fs.readdirSync(arfFixturesDir).filter((f) => f.endsWith('.eml')).sort();
}

/** The bytes of the sample whose file name starts with `prefix` (e.g. "05"). */
export function arfFixture(prefix: string): Buffer {
  const name = arfFixtureNames().find((f) => f.startsWith(prefix));
  if (!name) throw new Error(`no ARF sample starting with "${prefix}" in ${arfFixturesDir}`);
  return fs.readFileSync(path.join(arfFixturesDir, name));
}
