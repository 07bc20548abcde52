// For apps that embed the dashboard in their own React tree with their own supabase-js client.
export { CacheDashboard, type CacheDashboardProps } from './CacheDashboard.tsx';
export * from './api.ts';
