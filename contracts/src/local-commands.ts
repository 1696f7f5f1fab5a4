/*
 * What a local command (a program the executor runs on its own host) may be without a person's
 * approval. A program is read-only only in the exact argument shapes listed here: `date` is, `date -f
 * <file>` reads a file and is not; `hostname` is, `hostname <name>` renames the host and is not. Any
 * other program, or any other shape, is a change. The list is argv-exact on purpose: a denylist of
 * dangerous flags always misses one.
 */

/** A host name or an IP address, as the network diagnostics take it. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9a-fA-F:.]{2,45})$/;
const COUNT = /^[1-9][0-9]{0,2}$/;
const SECONDS = /^(?:[0-9]{1,3})(?:\.[0-9]{1,3})?$/;
const DNS_TYPE = /^(?:A|AAAA|CAA|CNAME|MX|NS|PTR|SOA|SRV|TXT)$/i;
const DIG_OPTION =
  /^\+(?:no)?(?:short|answer|authority|additional|question|stats|comments|all|trace|recurse|tcp|dnssec|multiline)$/;

/** One argument shape: a flag alone, a flag with a value, or a positional value. */
interface Shape {
  /** Flags taken alone (`-n`). */
  flags?: readonly string[];
  /** Flags followed by one value matching the pattern (`-c 4`). */
  valued?: Readonly<Record<string, RegExp>>;
  /** Positional arguments, in order; each matches its pattern. */
  positional?: readonly RegExp[];
  /** How many of the positional arguments must be present. */
  minPositional?: number;
  /** Positional arguments that are network destinations (their index in `positional`). */
  destinations?: readonly number[];
  /** Any argument at all is fine (`echo`). */
  anyArgs?: boolean;
  /** A positional argument may be `@server` (dig): a destination too. */
  atServer?: boolean;
  /** Query options written `+name` (dig's `+short`). */
  plusOptions?: RegExp;
}

const READ_ONLY: Readonly<Record<string, Shape>> = {
  echo: { anyArgs: true },
  true: {},
  false: {},
  sleep: { positional: [/^[0-9]{1,5}(?:\.[0-9]{1,3})?[smh]?$/], minPositional: 1 },
  uptime: { flags: ['-p', '-s'] },
  hostname: { flags: ['-f', '-s', '-d', '-i', '-I', '-A'] },
  uname: { flags: ['-a', '-s', '-n', '-r', '-v', '-m', '-p', '-i', '-o'] },
  date: {
    flags: ['-u', '-R', '--utc', '--iso-8601', '--rfc-3339=seconds'],
    positional: [/^\+[A-Za-z0-9%:._ /,-]{0,100}$/],
  },
  df: { flags: ['-h', '-H', '-P', '-k', '-T', '-i', '-l', '--total'], positional: [/^\/[A-Za-z0-9._/-]{0,255}$/] },
  ping: {
    flags: ['-n', '-q', '-4', '-6', '--'],
    valued: { '-c': COUNT, '-W': SECONDS, '-w': SECONDS, '-i': /^(?:[1-9][0-9]{0,2}|0\.[2-9][0-9]{0,2})$/ },
    positional: [HOST],
    minPositional: 1,
    destinations: [0],
  },
  ping6: {
    flags: ['-n', '-q', '--'],
    valued: { '-c': COUNT, '-W': SECONDS, '-w': SECONDS },
    positional: [HOST],
    minPositional: 1,
    destinations: [0],
  },
  traceroute: {
    flags: ['-n', '-4', '-6', '--'],
    valued: { '-m': COUNT, '-q': /^[1-9]$/, '-w': SECONDS },
    positional: [HOST],
    minPositional: 1,
    destinations: [0],
  },
  tracepath: {
    flags: ['-n', '-b', '-4', '-6', '--'],
    valued: { '-m': COUNT },
    positional: [HOST],
    minPositional: 1,
    destinations: [0],
  },
  dig: {
    flags: ['-4', '-6'],
    valued: { '-x': HOST },
    positional: [HOST, DNS_TYPE],
    atServer: true,
    plusOptions: DIG_OPTION,
  },
  nslookup: { valued: {}, positional: [HOST, HOST], minPositional: 1, destinations: [1] },
  host: {
    flags: ['-4', '-6', '-a'],
    valued: { '-t': DNS_TYPE, '-W': SECONDS },
    positional: [HOST, HOST],
    minPositional: 1,
    destinations: [1],
  },
};

/** What the executor needs to know about a local command before it starts it. */
export interface LocalCommandProfile {
  /** It only looks: a plan with nothing else needs no approval. */
  readOnly: boolean;
  /**
   * The hosts it talks to, when it is a network diagnostic in a read-only shape: it runs with the
   * network, and each host must pass the egress policy. `null`: it runs with no network at all.
   */
  destinations: string[] | null;
}

const CHANGE: LocalCommandProfile = { readOnly: false, destinations: null };

/** Matches `args` against one shape; the destinations it names, or null when it does not match. */
const match = (shape: Shape, args: readonly string[]): string[] | null => {
  if (shape.anyArgs) return [];
  const positional: string[] = [];
  const destinations: string[] = [];
  let endOfFlags = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!endOfFlags && arg === '--' && shape.flags?.includes('--')) {
      endOfFlags = true;
      continue;
    }
    if (!endOfFlags && arg.startsWith('-') && arg.length > 1) {
      if (shape.flags?.includes(arg)) continue;
      const pattern = shape.valued?.[arg];
      const value = args[i + 1];
      if (!pattern || value === undefined || !pattern.test(value)) return null;
      i += 1;
      continue;
    }
    if (shape.plusOptions && arg.startsWith('+')) {
      if (!shape.plusOptions.test(arg)) return null;
      continue;
    }
    if (shape.atServer && arg.startsWith('@')) {
      const server = arg.slice(1);
      if (!HOST.test(server)) return null;
      destinations.push(server);
      continue;
    }
    positional.push(arg);
  }
  const patterns = shape.positional ?? [];
  if (positional.length > patterns.length || positional.length < (shape.minPositional ?? 0)) return null;
  for (const [index, value] of positional.entries()) {
    if (!patterns[index]!.test(value)) return null;
    if (shape.destinations?.includes(index)) destinations.push(value);
  }
  return destinations;
};

/** Network diagnostics: in a read-only shape they run with the network, their destinations checked. */
const NETWORK_PROGRAMS: ReadonlySet<string> = new Set([
  'ping',
  'ping6',
  'traceroute',
  'tracepath',
  'dig',
  'nslookup',
  'host',
]);

/**
 * Whether a local command only looks, and which hosts it may talk to. The program must be a bare
 * name: `/tmp/x/echo` is not `echo`.
 */
export const localCommandProfile = (command: string, args: readonly string[]): LocalCommandProfile => {
  if (!Object.hasOwn(READ_ONLY, command)) return CHANGE;
  const destinations = match(READ_ONLY[command]!, args);
  if (destinations === null) return CHANGE;
  return { readOnly: true, destinations: NETWORK_PROGRAMS.has(command) ? destinations : null };
};

/** The programs that are read-only in some shape, for documentation and the planner. */
export const READ_ONLY_LOCAL_PROGRAMS: readonly string[] = Object.keys(READ_ONLY);
