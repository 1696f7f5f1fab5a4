'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import type {
  TriggerDeliveries,
  TriggerDelivery,
  TriggerList,
  TriggerView,
  TriggerWithSecret,
} from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { DataTable } from '../../components/data-table';
import { atLeast, useSession } from '../../components/session';
import { SecretShownOnce } from '../../components/triggers/secret-shown-once';
import { TriggerForm } from '../../components/triggers/trigger-form';

/** A trigger's recent deliveries: accepted (with the job), duplicate, ignored, refused (with why). */
const Deliveries = ({ trigger }: { trigger: TriggerView }) => {
  const [rows, setRows] = useState<TriggerDelivery[] | null>(null);
  const load = useCallback(async () => {
    const res = await api<TriggerDeliveries>(`/triggers/${trigger.id}/deliveries`);
    setRows(res.ok ? res.data.deliveries : []);
  }, [trigger.id]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-label={`Deliveries of ${trigger.name}`}>
      <h2>
        Deliveries of {trigger.name}{' '}
        <button type="button" onClick={() => void load()} data-testid="refresh-deliveries">
          Refresh
        </button>
      </h2>
      <DataTable
        rows={rows}
        testId="deliveries-table"
        columns={['Received', 'Outcome', 'Job', 'Reason', 'From']}
        empty="No deliveries yet."
        row={(d) => (
          <tr key={d.id} data-outcome={d.outcome}>
            <td>{dateTime(d.receivedAt)}</td>
            <td>{d.outcome}</td>
            <td>{d.jobId ? <Link href={`/jobs/${d.jobId}`}>{d.jobId}</Link> : '—'}</td>
            <td>{d.reason ?? ''}</td>
            <td>{d.sourceIp ?? ''}</td>
          </tr>
        )}
      />
    </section>
  );
};

/** Inbound webhooks bound to a template: the list, a new one (its secret shown once), rotation, deliveries. */
export default function TriggersPage() {
  const { user } = useSession();
  const admin = atLeast(user, 'admin');
  const [triggers, setTriggers] = useState<TriggerView[] | null>(null);
  const [made, setMade] = useState<TriggerWithSecret | null>(null);
  const [selected, setSelected] = useState<TriggerView | null>(null);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    const res = await api<TriggerList>('/triggers');
    if (res.ok) setTriggers(res.data.triggers);
    else setError(res.error.message);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const rotate = async (t: TriggerView) => {
    const res = await api<TriggerWithSecret>(`/triggers/${t.id}/rotate-secret`, { body: {} });
    if (res.ok) setMade(res.data);
    else setError(res.error.message);
  };

  return (
    <section aria-label="Triggers">
      <h1>Triggers</h1>
      <p className="muted small">
        Webhooks that run a template: a delivery fills the template&apos;s parameters from its payload and runs it as
        the trigger&apos;s owner; the template&apos;s approval rules apply. Generic deliveries are signed with the
        trigger&apos;s secret; Prometheus Alertmanager sends it as bearer credentials.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {made && <SecretShownOnce made={made} onDone={() => setMade(null)} />}
      <DataTable
        rows={triggers}
        failed={Boolean(error)}
        testId="triggers-table"
        columns={['Name', 'Kind', 'Template', 'Owner', 'State', 'URL', '']}
        empty="No triggers yet."
        row={(t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{t.kind}</td>
            <td>
              <Link href={`/templates/${t.template.id}`}>{t.template.name}</Link>
              {t.templateVersion ? ` v${t.templateVersion}` : ' (latest)'}
            </td>
            <td>{t.owner.username}</td>
            <td>{!t.enabled ? 'disabled' : !t.secretUsable ? 'rotate the secret' : 'enabled'}</td>
            <td className="mono small">{t.url}</td>
            <td>
              <button type="button" onClick={() => setSelected(t)} data-testid={`deliveries-${t.name}`}>
                Deliveries
              </button>{' '}
              {admin && (
                <button type="button" onClick={() => void rotate(t)}>
                  Rotate secret
                </button>
              )}
            </td>
          </tr>
        )}
      />
      {selected && <Deliveries key={selected.id} trigger={selected} />}
      {admin && (
        <TriggerForm
          onCreated={(m) => {
            setMade(m);
            void load();
          }}
        />
      )}
    </section>
  );
}
