import type { Connection } from '@temporalio/client';
import { SearchAttribute } from '@opsc/contracts/temporal';
import Long from 'long';

// temporal.api.enums.v1.IndexedValueType, by search attribute type name (the proto package is
// CommonJS and cannot be imported by name from ESM).
const INDEXED_VALUE_TYPE: Record<string, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

/** The platform's search attributes as `NAME=Type` pairs for `temporal server start-dev --search-attribute`. */
export const searchAttributeFlags = (): string[] =>
  Object.values(SearchAttribute).map((key) => {
    const type = key.type.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
    return `${key.name}=${type}`;
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes sure the namespace exists and carries the platform's search attributes, creating what is
 * missing. Waits until the namespace accepts work: a fresh namespace takes a moment to be served.
 */
export const ensureNamespace = async (connection: Connection, namespace: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  const exists = await connection.workflowService.describeNamespace({ namespace }).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(7 * 24 * 3600) },
    });
  }
  for (;;) {
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.values(SearchAttribute).filter((key) => !customAttributes?.[key.name]);
      if (missing.length > 0) {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]!])),
        });
        continue;
      }
      await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} not ready: ${(err as Error).message}`);
      await sleep(250);
    }
  }
};
