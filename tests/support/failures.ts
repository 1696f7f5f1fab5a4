import { ApplicationFailure } from '@temporalio/common';

/** The ApplicationFailure an activity run rejected with; anything else (or success) fails the test. */
export const failureOf = async (promise: Promise<unknown>): Promise<ApplicationFailure> => {
  const err = await promise.then(
    () => new Error('expected the activity to fail'),
    (e: unknown) => e,
  );
  if (err instanceof ApplicationFailure) return err;
  throw err instanceof Error ? err : new Error(String(err));
};
