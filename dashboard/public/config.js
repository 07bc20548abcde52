// Replace at deploy time (or build with VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY):
// window.AI_DASHBOARD_CONFIG = { supabaseUrl: 'https://<project>.supabase.co', supabaseAnonKey: '<anon or publishable key>' };
// The local stack serves its own config.js in place of this file.
