import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { Action, COMMAND_DONE, commandRequest, createShellRequest, receiveRequest, sendRequest } from './soap.js';
import { OPERATION_TIMEOUT_CODE, parseCommandId, parseFault, parseReceive, parseShellId } from './soap-response.js';

const base = { to: 'http://127.0.0.2:5985/wsman', maxEnvelopeSize: 153_600, operationTimeoutSeconds: 20 };
const strict = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true });

describe('WS-Management requests', () => {
  it('build well-formed envelopes with the action, the shell selector and escaped values', () => {
    const xml = commandRequest({
      ...base,
      shellId: 'S-1',
      command: 'powershell.exe',
      args: ['-Command', 'Write-Output "<a & b>"'],
    });
    const doc = strict.parse(xml) as {
      Envelope: { Header: Record<string, unknown>; Body: { CommandLine: { Arguments: string[] } } };
    };
    expect(doc.Envelope.Header.Action).toMatchObject({ '#text': Action.command });
    expect(doc.Envelope.Body.CommandLine.Arguments).toEqual(['-Command', 'Write-Output "<a & b>"']);
    expect(xml).toContain('<wsman:Selector Name="ShellId">S-1</wsman:Selector>');
  });

  it('ask for a UTF-8 shell and base64 stdin', () => {
    expect(createShellRequest(base)).toContain('<wsman:Option Name="WINRS_CODEPAGE">65001</wsman:Option>');
    expect(sendRequest({ ...base, shellId: 'S', commandId: 'C', data: Buffer.from('héllo'), end: true })).toContain(
      `End="true">${Buffer.from('héllo').toString('base64')}</rsp:Stream>`,
    );
    expect(receiveRequest({ ...base, shellId: 'S', commandId: 'C' })).toContain(
      '<rsp:DesiredStream CommandId="C">stdout stderr</rsp:DesiredStream>',
    );
  });
});

const wrap = (inner: string) =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header/><s:Body>${inner}</s:Body></s:Envelope>`;

describe('WS-Management responses', () => {
  it('give the shell id, the command id, and output chunks with the exit code', () => {
    expect(parseShellId(wrap('<rsp:Shell><rsp:ShellId>ABC-1</rsp:ShellId></rsp:Shell>'))).toBe('ABC-1');
    expect(
      parseCommandId(wrap('<rsp:CommandResponse><rsp:CommandId>CMD-9</rsp:CommandId></rsp:CommandResponse>')),
    ).toBe('CMD-9');
    const b = (s: string) => Buffer.from(s).toString('base64');
    const receive = parseReceive(
      wrap(
        `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C">${b('one ')}</rsp:Stream><rsp:Stream Name="stderr" CommandId="C">${b('warn')}</rsp:Stream>` +
          `<rsp:Stream Name="stdout" CommandId="C">${b('two ✓')}</rsp:Stream><rsp:Stream Name="stdout" CommandId="C" End="true"></rsp:Stream>` +
          `<rsp:CommandState CommandId="C" State="${COMMAND_DONE}"><rsp:ExitCode>3</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
      ),
    );
    expect(receive).toEqual({ stdout: Buffer.from('one two ✓'), stderr: Buffer.from('warn'), done: true, exitCode: 3 });
    expect(
      parseReceive(
        wrap('<rsp:ReceiveResponse><rsp:CommandState CommandId="C" State="x/Running"/></rsp:ReceiveResponse>'),
      ).done,
    ).toBe(false);
  });

  it('read a WSManFault: the operation timeout, and access denied', () => {
    const fault = (code: string, message: string) =>
      wrap(
        `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="">The WS-Management service cannot complete the operation.</s:Text></s:Reason>` +
          `<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${code}" Machine="win-01"><f:Message>${message}</f:Message></f:WSManFault></s:Detail></s:Fault>`,
      );
    expect(parseFault(fault(OPERATION_TIMEOUT_CODE, 'timed out'))).toEqual({
      code: OPERATION_TIMEOUT_CODE,
      subcode: 'w:TimedOut',
      reason: 'The WS-Management service cannot complete the operation.',
      message: 'timed out',
    });
    expect(parseFault(fault('5', 'Access is denied. &lt;x&gt;'))?.message).toBe('Access is denied. <x>');
    expect(parseFault(wrap('<rsp:Shell/>'))).toBeNull();
  });
});
