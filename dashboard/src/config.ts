// Where the page finds its project: window.AI_DASHBOARD_CONFIG (config.js, written at serve
// or deploy time) first, then the build-time VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY.
export interface DashboardConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
}

declare global {
  interface Window {
    AI_DASHBOARD_CONFIG?: Partial<DashboardConfig> | null;
  }
}

export function readConfig(): DashboardConfig | null {
  const w = window.AI_DASHBOARD_CONFIG ?? {};
  const env = import.meta.env as Record<string, string | undefined>;
  const supabaseUrl = w.supabaseUrl ?? env.VITE_SUPABASE_URL;
  const supabaseAnonKey = w.supabaseAnonKey ?? env.VITE_SUPABASE_ANON_KEY;
  return supabaseUrl && supabaseAnonKey ? { supabaseUrl, supabaseAnonKey } : null;
}
