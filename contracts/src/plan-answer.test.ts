import { describe, expect, it } from 'vitest';
import { aboutDuration, planAnswer, proposalText } from './plan-answer.js';
import type { PlanSummary } from './api/plans.js';
import { PlanDraft } from './plan-draft.js';

const summary: PlanSummary = {
  bullets: ["Stop stationcontroller on 3 Windows targets in group 'CIS servers' (change; rollback: service-start)"],
  targets: { total: 5, byOs: { linux: 2, windows: 3 } },
  risk: 'change',
  approvalRequired: true,
  approvalReasons: ['step "stop" (service-stop) is change'],
  etaSeconds: 240,
  warnings: ['the request speaks of 25 servers, but the selection resolves to 5'],
};
const draft = PlanDraft.parse({
  name: 'Restart stationcontroller',
  steps: [{ id: 'stop', tool: 'service-stop', params: {} }],
  policies: { continueOnFailure: true, maxFailPercentage: 20 },
});

describe('the plan answer, rendered once', () => {
  it('says what will happen, where, how risky, how long, and asks', () => {
    expect(
      proposalText({ status: 'ready', summary, draft, missing: [], issues: [] }, ['checks the service first']),
    ).toBe(
      [
        "I'll do this: Restart stationcontroller. This will:",
        `✓ ${summary.bullets[0]}`,
        '✓ Checks the service first',
        '✓ Continue with the other targets when one fails (stop above 20% failed)',
        "✓ Roll back a failed target's completed changes",
        '',
        'Targets: 5 (2 Linux, 3 Windows). Risk: change.',
        'Estimated completion time: about 4 minutes.',
        `⚠ ${summary.warnings[0]}`,
        'Check mode first: each step reports what it would change on each target (versions, file hashes, service states), changing nothing and needing no approval.',
        'Approval required: step "stop" (service-stop) is change.',
        'Would you like me to run it in check mode, or request approval?',
      ].join('\n'),
    );
  });

  it('gives the web card the same parts', () => {
    const a = planAnswer(
      {
        ...summary,
        risk: 'read',
        approvalRequired: false,
        approvalReasons: [],
        warnings: [],
        targets: { total: 1, byOs: { linux: 1, windows: 0 } },
      },
      null,
    );
    expect(a).toEqual({
      opening: "I'll run this plan. This will:",
      checks: summary.bullets,
      targets: '1 (1 Linux)',
      risk: 'read',
      eta: 'about 4 minutes',
      etaWhy: null,
      warnings: [],
      checkMode: null,
      approval: 'No approval needed: nothing is changed.',
      question: 'Would you like me to proceed?',
    });
  });

  it("gives the range the job will start with, and why it is that sure, where the platform's model made one", () => {
    const eta = {
      lowSeconds: 480,
      highSeconds: 720,
      confidence: 'medium' as const,
      reason: 'no history for 5 of 25 targets; dispatch learned from 6 recent step(s)',
    };
    const a = planAnswer({ ...summary, eta }, draft);
    expect(a.eta).toBe('8–12 minutes');
    expect(a.etaWhy).toBe('medium confidence: no history for 5 of 25 targets; dispatch learned from 6 recent step(s)');
    expect(proposalText({ status: 'ready', summary: { ...summary, eta }, draft, missing: [], issues: [] })).toContain(
      '\nEstimated completion time: 8–12 minutes (medium confidence: no history for 5 of 25 targets; dispatch learned from 6 recent step(s)).\n',
    );
  });

  it('asks for what is missing, lists what is wrong, and refuses with the closest tools', () => {
    expect(
      proposalText({
        status: 'needs-input',
        summary: null,
        draft,
        missing: [{ path: 'steps.0.params.source', question: 'Which file?' }],
        issues: [],
      }),
    ).toBe('I can plan this, but I need to know more first:\n? Which file?');
    expect(
      proposalText({
        status: 'invalid',
        summary: null,
        draft,
        missing: [],
        issues: [{ path: 'steps.0.tool', message: 'no tool' }],
      }),
    ).toBe('The plan does not validate:\n✗ steps.0.tool: no tool');
    // The planner's notes are said with a question or an issue too, never only with a ready plan.
    expect(
      proposalText(
        {
          status: 'invalid',
          summary: null,
          draft,
          missing: [],
          issues: [{ path: 'steps.0.targets.group', message: 'no group named "CIS server"' }],
        },
        ["there is no group 'CIS server' in the inventory; did you mean 'CIS servers'?"],
      ),
    ).toBe(
      "The plan does not validate:\n✗ steps.0.targets.group: no group named \"CIS server\"\n• There is no group 'CIS server' in the inventory; did you mean 'CIS servers'?",
    );
    expect(
      proposalText(
        { status: 'needs-input', summary: null, draft, missing: [{ path: 'p', question: 'Which file?' }], issues: [] },
        ['not used: "rm -rf /": it reads like a command outside backticks, which is never run'],
      ),
    ).toMatch(/\? Which file\?\n• Not used: "rm -rf \/"/);
    const refusal = {
      message: 'I cannot reboot the moon.',
      closestTools: [{ name: 'ping', description: 'reachability' }],
    };
    expect(proposalText({ status: 'refused', summary: null, draft: null, missing: [], issues: [], refusal })).toBe(
      'I cannot reboot the moon.\nClosest tools: ping (reachability)',
    );
    expect(proposalText({ status: 'refused', summary: null, draft: null, missing: [], issues: [] })).toBe(
      "I can't plan that.",
    );
  });

  it('rounds an ETA as a person says it', () => {
    expect([0, 89, 90, 5339, 5400].map(aboutDuration)).toEqual([
      'about 1 seconds',
      'about 89 seconds',
      'about 2 minutes',
      'about 89 minutes',
      'about 1.5 hours',
    ]);
  });
});
