'use client';
import { useState, type FormEvent } from 'react';
import { useRouter } from 'next/navigation';
import type { PlanDraft } from '@opsc/contracts';
import type { TemplateDetail, TemplateParamSpec } from '@opsc/contracts/api';
import { api } from '../../lib/api';

/** One place of the plan that can become a parameter: a step's parameter, or its targets. */
interface Site {
  key: string;
  step: string;
  label: string;
  /** The template parameter it joins: sites of one name become one parameter. */
  name: string;
  bind: TemplateParamSpec['binds'][number];
}

const sitesOf = (draft: PlanDraft): Site[] =>
  draft.steps.flatMap((s) => [
    ...Object.keys(s.params).map((param) => ({
      key: `${s.id}.params.${param}`,
      step: s.id,
      label: `${s.name ?? s.id}: ${param} = ${JSON.stringify(s.params[param])}`,
      name: param,
      bind: { step: s.id, param },
    })),
    ...(s.targets?.group
      ? [
          {
            key: `${s.id}.targets`,
            step: s.id,
            label: `${s.name ?? s.id}: targets = group “${s.targets.group}”`,
            name: 'targetGroup',
            bind: { step: s.id, selector: 'group' as const },
          },
        ]
      : s.targets?.targets?.length
        ? [
            {
              key: `${s.id}.targets`,
              step: s.id,
              label: `${s.name ?? s.id}: targets = ${s.targets.targets.join(', ')}`,
              name: 'targetNames',
              bind: { step: s.id, selector: 'targets' as const },
            },
          ]
        : []),
  ]);

/**
 * "Save as template" on a validated plan: a name, and which of its step parameters (and step
 * targets) become the template's parameters; the same parameter name in several steps is one.
 */
export const SaveTemplate = ({ draft }: { draft: PlanDraft }) => {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(draft.name);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<{ message: string; issues: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const sites = sitesOf(draft);

  const toggle = (key: string) =>
    setPicked((old) => {
      const next = new Set(old);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const byName = new Map<string, TemplateParamSpec>();
    for (const s of sites.filter((x) => picked.has(x.key))) {
      const p = byName.get(s.name) ?? { name: s.name, binds: [] };
      p.binds.push(s.bind);
      byName.set(s.name, p);
    }
    setBusy(true);
    const res = await api<TemplateDetail>('/templates', { body: { name, draft, parameters: [...byName.values()] } });
    setBusy(false);
    if (res.ok) {
      router.push(`/templates/${res.data.id}`);
      return;
    }
    setError({ message: res.error.message, issues: (res.error.issues ?? []).map((i) => `${i.path}: ${i.message}`) });
  };

  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} data-testid="save-as-template">
        Save as template
      </button>
    );
  return (
    <form
      className="template-save"
      onSubmit={(e) => void save(e)}
      aria-label="Save as template"
      data-testid="save-template-form"
    >
      <label>
        Template name
        <input name="template-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      </label>
      <fieldset>
        <legend>Parameters (filled in at each run)</legend>
        {sites.map((s) => (
          <label key={s.key} className="small">
            <input type="checkbox" checked={picked.has(s.key)} onChange={() => toggle(s.key)} data-site={s.key} />{' '}
            {s.label}
          </label>
        ))}
      </fieldset>
      {error && (
        <div className="error-box" role="alert">
          <p>{error.message}</p>
          <ul>
            {error.issues.map((i) => (
              <li key={i}>{i}</li>
            ))}
          </ul>
        </div>
      )}
      <button type="submit" className="primary" disabled={busy || !name.trim()} data-testid="save-template">
        {busy ? 'Saving…' : 'Save template'}
      </button>{' '}
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
};
