import type { AttemptOutput } from '../output-lines/sink.js';
import { readableStderr } from './powershell.js';

const CLIXML_HEADER = Buffer.from('#< CLIXML');

/**
 * Feeds a PowerShell process' stderr to the live log. Plain text (`[Console]::Error`, native
 * programs) passes as it comes; PowerShell's error records arrive as one CLIXML document, which is
 * kept until the stream ends and then logged as the text a person would have seen.
 */
export const stderrLineFeed = (output: AttemptOutput) => {
  let clixml: Buffer[] | null = null;
  return {
    write(chunk: Buffer): void {
      if (clixml) {
        clixml.push(chunk);
        return;
      }
      const at = chunk.indexOf(CLIXML_HEADER);
      if (at === -1) return output.write('stderr', chunk);
      if (at > 0) output.write('stderr', chunk.subarray(0, at));
      clixml = [chunk.subarray(at)];
    },
    end(): void {
      if (clixml) output.writeText('stderr', readableStderr(Buffer.concat(clixml).toString('utf8')));
      clixml = null;
    },
  };
};
