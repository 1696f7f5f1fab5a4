import { describeStepFacts, type StepProgress } from '@opsc/contracts';

/** What a step did on its targets, as facts: "18 running, 7 stopped", "25 copied (45.2 MB each)". */
export const StepFacts = ({ step }: { step: StepProgress }) =>
  step.facts ? (
    <span className="small step-facts" data-testid="step-facts">
      {' · '}
      {describeStepFacts(step.facts)}
    </span>
  ) : null;
