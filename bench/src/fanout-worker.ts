import { readFileSync } from 'node:fs';
import { createLayer, plainRound, type FanoutInput } from './fanout-round.js';

// One measurement in its own process, so its peak RSS is its own: `fanout-worker <variant> <inputFile> <maxHandshakes>`.
const [variant, inputFile, maxHandshakes] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile ?? '', 'utf8')) as FanoutInput;

const main = async () => {
  if (variant === 'plain') {
    const cold = await plainRound(input);
    return { cold };
  }
  const layer = createLayer(input, { maxHandshakes: Number(maxHandshakes ?? 32) });
  const cold = await layer.round();
  // The same steps again: what the next step of a rollout costs once the pool holds the connections.
  const warm = await layer.round();
  await layer.close();
  return { cold, warm };
};

main().then(
  (rounds) => {
    process.stdout.write(`${JSON.stringify({ ...rounds, maxRssKb: process.resourceUsage().maxRSS })}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
