import { Router } from 'express';
import { openApiDocument, type OpenApiDocument, type Sent } from '@opsc/contracts/api';

/**
 * `GET /api/openapi.json`: the API's OpenAPI 3.1 document, generated from the contract once. It
 * holds no data, so it needs no sign-in, and it answers while the orchestrator starts.
 */
export const openApiRouter = (): Router => {
  const router = Router();
  const document = openApiDocument();
  router.get('/', (_req, res) => {
    res.json(document satisfies Sent<OpenApiDocument>);
  });
  return router;
};
