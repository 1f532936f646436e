/** Where the program's own files are: the project root holds templates/, crds/, hooks/ and watches.yaml. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (holding templates/ and crds/), both from src/ under tsx and from dist/src/ when built. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      readdirSync(path.join(dir, 'templates'));
      return dir;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('cannot find the templates/ folder next to the installed program');
}
