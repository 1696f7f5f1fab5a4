/** Whether a process of that PID is still there. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Polls until a line (from `from` on) matches, failing with the last lines seen after `timeoutMs`. */
export const waitForLine = async (
  lines: string[],
  pattern: RegExp,
  timeoutMs = 120_000,
  from = 0,
): Promise<RegExpExecArray> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of lines.slice(from)) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no line matched ${pattern} within ${timeoutMs} ms; the last lines:\n${lines.slice(-30).join('\n')}`);
};
