import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '@supabase/supabase-js';
import { App } from './App.tsx';
import { readConfig } from './config.ts';
import './styles.css';

const config = readConfig();
const root = createRoot(document.getElementById('root')!);
if (!config) {
  root.render(
    <main className='page narrow'>
      <h1>AI cache dashboard</h1>
      <p role='alert'>
        This page does not know its Supabase project. Serve it with a <code>config.js</code> that sets{' '}
        <code>window.AI_DASHBOARD_CONFIG = {'{ supabaseUrl, supabaseAnonKey }'}</code>, or build it with{' '}
        <code>VITE_SUPABASE_URL</code> and <code>VITE_SUPABASE_ANON_KEY</code>.
      </p>
    </main>,
  );
} else {
  const supabase = createClient(config.supabaseUrl, config.supabaseAnonKey);
  // ?refresh=N reloads the figures every N seconds (default 15; 0 = only on demand).
  const refresh = new URLSearchParams(window.location.search).get('refresh');
  const refreshMs = refresh !== null && Number.isFinite(Number(refresh)) ? Math.max(0, Number(refresh)) * 1000 : 15_000;
  root.render(
    <StrictMode>
      <App supabase={supabase} refreshMs={refreshMs} />
    </StrictMode>,
  );
}
