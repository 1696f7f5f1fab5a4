/**
 * The WS-Management faults the endpoint answers with (HTTP 500), with the codes Windows uses
 * (wsmerror.h) so clients can be tested against the numbers they will meet.
 */

export const FaultCode = {
  /** ERROR_WSMAN_OPERATION_TIMEDOUT: a Receive with nothing to report; ask again. */
  operationTimeout: '2150858793',
  /** ERROR_WSMAN_UNEXPECTED_SELECTORS: what Windows answers for a ShellId it does not have. */
  shellNotFound: '2150858843',
  /** ERROR_WSMAN_QUOTA_MAX_SHELLS (MaxShellsPerUser). */
  maxShells: '2150859173',
  /** ERROR_WSMAN_MAX_ENVELOPE_SIZE_EXCEEDED. */
  envelopeTooLarge: '2150858824',
  /** ERROR_WSMAN_INVALID_XML. */
  invalidXml: '2150858819',
  /** ERROR_WSMAN_SOAP_VERSION_MISMATCH. */
  soapVersion: '2150858765',
  /** ERROR_WSMAN_INVALID_MESSAGE_INFORMATION_HEADER. */
  invalidHeader: '2150858767',
  /** ERROR_WSMAN_ACTION_NOT_SUPPORTED. */
  actionNotSupported: '2150858771',
  /** ERROR_WSMAN_RESOURCE_NOT_FOUND. */
  resourceNotFound: '2150858752',
  /** ERROR_WSMAN_INVALID_PARAMETER: a request the shell cannot act on (no CommandId, no Command). */
  invalidRequest: '2150858810',
  /** ERROR_WSMAN_PROVIDER_FAILURE, for the failures a test asks for (failNextRequests). */
  injected: '2150858755',
} as const;

export class WsmanFault extends Error {
  constructor(
    /** `s:Sender` (the request is wrong) or `s:Receiver` (the service could not do it). */
    readonly value: 's:Sender' | 's:Receiver' | 's:VersionMismatch',
    /** The WS-Management subcode, e.g. `w:TimedOut`. */
    readonly subcode: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** For `value ?? raise(fault)`. */
export const raise = (fault: WsmanFault): never => {
  throw fault;
};

export const Faults = {
  operationTimeout: () =>
    new WsmanFault(
      's:Receiver',
      'w:TimedOut',
      FaultCode.operationTimeout,
      'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ',
    ),
  shellNotFound: (shellId: string) =>
    new WsmanFault(
      's:Sender',
      'w:InvalidSelectors',
      FaultCode.shellNotFound,
      `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. `,
    ),
  commandNotFound: (shellId: string, commandId: string) =>
    new WsmanFault(
      's:Sender',
      'w:InvalidSelectors',
      FaultCode.shellNotFound,
      `The request for the Windows Remote Shell with ShellId ${shellId} failed because the command with CommandId ${commandId} was not found on the server. Provide the correct CommandId or run a new command and retry the operation. `,
    ),
  maxShells: (max: number) =>
    new WsmanFault(
      's:Receiver',
      'w:InternalError',
      FaultCode.maxShells,
      `The WS-Management service cannot process the request. This user is allowed a maximum number of ${max} concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. `,
    ),
  envelopeTooLarge: (size: number, max: number) =>
    new WsmanFault(
      's:Sender',
      'w:EncodingLimit',
      FaultCode.envelopeTooLarge,
      `The WS-Management service cannot process the request because the envelope size (${size} bytes) exceeds the MaxEnvelopeSize of ${max} bytes. `,
    ),
  invalidXml: (detail: string) =>
    new WsmanFault(
      's:Sender',
      'w:SchemaValidationError',
      FaultCode.invalidXml,
      `The WS-Management service cannot process the request because the XML is invalid: ${detail} `,
    ),
  soapVersion: () =>
    new WsmanFault(
      's:VersionMismatch',
      'w:InvalidMessage',
      FaultCode.soapVersion,
      'The WS-Management service only accepts SOAP 1.2 envelopes. ',
    ),
  invalidHeader: (detail: string) =>
    new WsmanFault(
      's:Sender',
      'a:InvalidMessageInformationHeader',
      FaultCode.invalidHeader,
      `The WS-Management service cannot process a SOAP header in the request: ${detail} `,
    ),
  actionNotSupported: (action: string) =>
    new WsmanFault(
      's:Sender',
      'a:ActionNotSupported',
      FaultCode.actionNotSupported,
      `The WS-Management service cannot process the request because the action ${action || '(none)'} is not supported for this resource. `,
    ),
  resourceNotFound: (uri: string) =>
    new WsmanFault(
      's:Sender',
      'w:DestinationUnreachable',
      FaultCode.resourceNotFound,
      `The WS-Management service cannot process the request. The resource URI (${uri}) was not found in the WS-Management catalog. `,
    ),
  invalidRequest: (detail: string) =>
    new WsmanFault(
      's:Sender',
      'w:SchemaValidationError',
      FaultCode.invalidRequest,
      `The WS-Management service cannot process the request: ${detail} `,
    ),
  injected: () =>
    new WsmanFault(
      's:Receiver',
      'w:InternalError',
      FaultCode.injected,
      'The WS-Management service cannot process the request: the test fleet was asked to fail it. ',
    ),
};
