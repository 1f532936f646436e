#!/usr/bin/env node
// The `ks-installer` command. In a clone (sources and the dev dependencies present, e.g. right after
// `npm ci`) it runs the TypeScript sources through tsx, so `npx ks-installer …` needs no build and is
// never older than the code; elsewhere (the image, a published package) the compiled dist/main.js.
import { existsSync } from 'node:fs';

const source = new URL('../src/main.ts', import.meta.url);
let tsx;
if (existsSync(source)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // tsx is a dev dependency: absent from a production install, then the compiled program runs.
  }
}
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import(new URL('../dist/main.js', import.meta.url).href);
}
