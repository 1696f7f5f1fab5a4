import { apiReference, openApiDocument } from '@opsc/contracts/api';

/** The generated API documents by their path in the repository; `npm run docs:api` writes them. */
export const apiDocs = (): Record<string, string> => {
  const document = openApiDocument();
  return {
    'docs/reference/openapi.json': `${JSON.stringify(document, null, 2)}\n`,
    'docs/reference/api.md': apiReference(document),
  };
};
