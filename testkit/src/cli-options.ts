/** A whole-number CLI option; anything else stops the CLI with exit code 2, naming the option. */
export const integerOption = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`--${name} must be a number (got ${value})\n`);
    process.exit(2);
  }
  return Number(value);
};
