// The standalone page: a sign-in form, then the dashboard for the signed-in user.
import { type FormEvent, useEffect, useState } from 'react';
import type { Session, SupabaseClient } from '@supabase/supabase-js';
import { CacheDashboard } from './CacheDashboard.tsx';

export function App({ supabase, refreshMs }: { supabase: SupabaseClient; refreshMs?: number }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    supabase.auth.getSession().then(({ data }) => setSession(data.session));
    const { data } = supabase.auth.onAuthStateChange((_event, s) => setSession(s));
    return () => data.subscription.unsubscribe();
  }, [supabase]);

  if (session === undefined) {
    return (
      <main className='page narrow'>
        <p role='status'>Loading…</p>
      </main>
    );
  }
  if (!session) return <SignIn supabase={supabase} />;
  return (
    <div>
      <header className='topbar'>
        <strong>AI cache dashboard</strong>
        <span className='who'>
          Signed in as {session.user.email}{' '}
          <button type='button' onClick={() => supabase.auth.signOut()}>Sign out</button>
        </span>
      </header>
      <CacheDashboard supabase={supabase} refreshMs={refreshMs} />
    </div>
  );
}

function SignIn({ supabase }: { supabase: SupabaseClient }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const { error } = await supabase.auth.signInWithPassword({ email, password });
    setBusy(false);
    if (error) {
      setError(
        error.code === 'invalid_credentials'
          ? 'Wrong e-mail or password. Check both, or ask whoever runs the project to create your account.'
          : `Could not sign in: ${error.message}`,
      );
    }
  }

  return (
    <main className='page narrow'>
      <h1>AI cache dashboard</h1>
      <p>Sign in with the account of a company admin to see the company's cache figures.</p>
      <form className='signin' onSubmit={submit}>
        <label htmlFor='email'>Email</label>
        <input
          id='email'
          name='email'
          type='email'
          autoComplete='username'
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor='password'>Password</label>
        <input
          id='password'
          name='password'
          type='password'
          autoComplete='current-password'
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type='submit' disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error && <p role='alert' className='error'>{error}</p>}
      </form>
    </main>
  );
}
