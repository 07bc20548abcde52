import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset URLs: the same build works at /dashboard/ on the local stack and under any
// path a static host serves it from.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
});
