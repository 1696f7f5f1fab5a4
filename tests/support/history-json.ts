import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';

/**
 * A workflow history to and from the proto3 JSON that Temporal's tools write (`temporal workflow show
 * --output json`, the SDK's `historyToJSON`). The SDK's own helpers (`@temporalio/common`) load a
 * second copy of protobufjs in this install and throw "type must be a Type"; these use the copy
 * `@temporalio/proto` built its types with.
 */

type History = proto.temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { toJson, fromJson } = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
const HISTORY = root.lookupType('temporal.api.history.v1.History');

export const historyToJson = (history: History): unknown =>
  toJson(HISTORY, proto.temporal.api.history.v1.History.fromObject(history));

/** A History the SDK's replayer takes as it is (event ids as Long, not strings). Unknown fields (a newer server's) are ignored. */
export const historyFromJson = (json: unknown): History => {
  const history = fromJson(HISTORY, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a workflow history');
  return history as History;
};
