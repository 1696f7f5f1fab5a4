import { readFileSync } from 'node:fs';
import { ConfigError, type OrchestratorEnv } from '../env.js';
import { MIN_TRIGGER_KEY_LENGTH } from './trigger-secret.js';

/** The orchestrator's trigger key from its environment (the variable, else the file), or undefined. */
export const loadTriggerKey = (
  env: Pick<OrchestratorEnv, 'OPSC_TRIGGER_KEY' | 'OPSC_TRIGGER_KEY_FILE'>,
): Buffer | undefined => {
  let text = env.OPSC_TRIGGER_KEY;
  if (text === undefined && env.OPSC_TRIGGER_KEY_FILE) {
    try {
      text = readFileSync(env.OPSC_TRIGGER_KEY_FILE, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `OPSC_TRIGGER_KEY_FILE: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (text === undefined) return undefined;
  if (text.length < MIN_TRIGGER_KEY_LENGTH)
    throw new ConfigError(
      `${env.OPSC_TRIGGER_KEY !== undefined ? 'OPSC_TRIGGER_KEY' : 'OPSC_TRIGGER_KEY_FILE'}: the key must have at least ${MIN_TRIGGER_KEY_LENGTH} characters`,
    );
  return Buffer.from(text, 'utf8');
};
