import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiDocs } from './api-docs.js';
import { REPO_ROOT } from './paths.js';

// `npm run docs:api`: writes the OpenAPI document and the Markdown reference from @opsc/contracts/api.
for (const [file, text] of Object.entries(apiDocs())) {
  const target = path.join(REPO_ROOT, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${file}`);
}
