/** Splits fact lines (those carrying the nonce) out of stdout; a Windows CR before the line end is not part of the value. */
export const parseFacts = (stdout: string, nonce: string): { stdout: string; facts: Record<string, string> } => {
  const marker = `@@opsc-${nonce} `;
  const facts: Record<string, string> = {};
  const kept: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(marker)) {
      kept.push(line);
      continue;
    }
    const body = line.slice(marker.length).replace(/\r$/, '');
    const eq = body.indexOf('=');
    if (eq > 0) facts[body.slice(0, eq)] = body.slice(eq + 1);
  }
  return { stdout: kept.join('\n'), facts };
};
