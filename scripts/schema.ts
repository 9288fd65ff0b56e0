/** `npm run schema`: writes docs/schema.sql from the migrations (see src/platform/db/schema-doc.ts). */
import { writeFileSync } from 'node:fs';
import { schemaDocument } from '../src/platform/db/schema-doc.ts';

const path = new URL('../docs/schema.sql', import.meta.url);
writeFileSync(path, await schemaDocument());
process.stdout.write(`wrote ${path.pathname}\n`);
