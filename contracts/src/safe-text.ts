import { z } from 'zod';

/**
 * Characters that mean something to a POSIX shell or to cmd/PowerShell. Parameters never reach a
 * shell unquoted, but a value carrying one of these is refused anyway: a plan that asks for
 * `; rm -rf /` is either an injection attempt or a mistake, and neither should run.
 */
export const SHELL_METACHARACTERS = /[;&|`$<>(){}\\\n\r\0]/;

/** A free-text parameter that contains no shell metacharacter. */
export const SafeArg = z
  .string()
  .max(4096)
  .refine((value) => !SHELL_METACHARACTERS.test(value), {
    message: 'must not contain shell metacharacters (; & | ` $ < > ( ) { } \\ or line breaks)',
  });
export type SafeArg = z.infer<typeof SafeArg>;

/** An executable: a bare program name looked up on PATH, or an absolute path. */
export const ExecutableName = z.string().regex(/^(\/[A-Za-z0-9._+-]+)+$|^[A-Za-z0-9._+-]+$/, {
  message: 'must be a program name or an absolute path (letters, digits, . _ + - and /)',
});
