import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One fleet host as every variant reaches it. */
export interface BenchHost {
  name: string;
  address: string;
  port: number;
  username: string;
}

/** The file the three steps check, replace (backing up the old one) and verify on every host. */
export const DESTINATION = '/opt/app/app.bin';
export const ARTIFACT_NAME = 'app.bin';
/** What each host holds before a run: the backup must end up with exactly this. */
export const OLD_CONTENT = 'app build 1.0\n';
export const OLD_SHA256 = createHash('sha256').update(OLD_CONTENT).digest('hex');

export interface Artifact {
  file: string;
  sha256: string;
  bytes: number;
}

/** Random bytes, so no variant gains from compression. */
export const writeArtifact = async (dir: string, bytes: number): Promise<Artifact> => {
  const content = randomBytes(bytes);
  const file = path.join(dir, ARTIFACT_NAME);
  await writeFile(file, content, { mode: 0o644 });
  return { file, sha256: createHash('sha256').update(content).digest('hex'), bytes };
};

/** POSIX single quotes. */
export const shQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Step 3 everywhere: the file's SHA-256 must be the artifact's, or the command fails. */
export const verifyScript = (sha256: string): string =>
  `printf '%s  %s\\n' ${sha256} ${shQuote(DESTINATION)} | sha256sum -c -`;

/**
 * Run with sudo after each measurement: reports the file's hash and the hash of every other file
 * where a variant may have put its backup (the executor under /var/backups/opsc, Ansible beside the
 * file, the ssh2 floor under /var/backups/bench), then puts the host back as it was.
 */
export const checkAndResetScript = (): string => `cur=$(sha256sum < ${shQuote(DESTINATION)} 2>/dev/null | cut -c1-64)
echo "cur $cur"
find /var/backups /opt/app -type f 2>/dev/null | while read -r f; do
  [ "$f" = ${shQuote(DESTINATION)} ] || echo "bak $(sha256sum < "$f" | cut -c1-64)"
done
rm -rf /var/backups/opsc /var/backups/bench /opt/app
mkdir -p /opt/app
printf %s ${shQuote(OLD_CONTENT)} > ${shQuote(DESTINATION)}
chmod 0644 ${shQuote(DESTINATION)}`;

/** What `checkAndResetScript` printed: whether the host had the new file and kept the old one. */
export const judgeCheck = (stdout: string, want: string): string | null => {
  const cur = /^cur (\S*)$/m.exec(stdout)?.[1] ?? '';
  if (cur !== want) return `the file's SHA-256 is ${cur ? cur.slice(0, 12) : 'missing'}, not the artifact's`;
  if (!stdout.split('\n').includes(`bak ${OLD_SHA256}`)) return 'no backup of the old file';
  return null;
};
