// Purges the company's entries of one cache type or one model, after a confirmation, through
// purge_company_cache (admins of the company only); the figures reload afterwards.
import { type FormEvent, useState } from 'react';
import type { SupabaseClient } from '@supabase/supabase-js';
import { purge, type PurgeTarget } from '../api.ts';

interface Props {
  supabase: SupabaseClient;
  companyId: string;
  types: string[];
  models: string[];
  onPurged: () => unknown;
}

export function PurgeForm({ supabase, companyId, types, models, onPurged }: Props) {
  const [target, setTarget] = useState<PurgeTarget | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const nothing = types.length === 0 && models.length === 0;
  const selected = target?.value ?? '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!target) return;
    const what = `${target.kind === 'type' ? 'cache type' : 'model'} "${target.value}"`;
    if (
      !window.confirm(
        `Purge every cache entry of ${what} for company ${companyId}? Statistics are kept; the entries cannot be restored.`,
      )
    ) return;
    setBusy(true);
    setMessage(null);
    try {
      const n = await purge(supabase, companyId, target);
      setMessage({ ok: true, text: `Purged ${n} ${n === 1 ? 'entry' : 'entries'} of ${what}.` });
      setTarget(null);
      await onPurged();
    } catch (err) {
      setMessage({
        ok: false,
        text: `Purge failed: ${
          (err as Error).message
        }. Nothing was deleted; try again, or check that you are still an admin.`,
      });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby='purge-title' className='panel'>
      <h2 id='purge-title'>Purge</h2>
      {nothing ? <p className='note'>No entries to purge.</p> : (
        <form onSubmit={submit} className='purge'>
          <label htmlFor='purge-target'>Purge entries of</label>
          <select
            id='purge-target'
            value={selected}
            onChange={(e) => {
              const opt = e.target.selectedOptions[0];
              setTarget(opt?.dataset.kind ? { kind: opt.dataset.kind as PurgeTarget['kind'], value: opt.value } : null);
            }}
          >
            <option value=''>Choose a cache type or a model</option>
            {types.length > 0 && (
              <optgroup label='Cache type'>
                {types.map((t) => <option key={`type:${t}`} value={t} data-kind='type'>{t}</option>)}
              </optgroup>
            )}
            {models.length > 0 && (
              <optgroup label='Model'>
                {models.map((m) => <option key={`model:${m}`} value={m} data-kind='model'>{m}</option>)}
              </optgroup>
            )}
          </select>
          <button type='submit' disabled={!target || busy}>Purge</button>
        </form>
      )}
      {message && <p role={message.ok ? 'status' : 'alert'} className={message.ok ? 'ok' : 'error'}>{message.text}</p>}
    </section>
  );
}
