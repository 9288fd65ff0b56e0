import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

/**
 * The console: built into web/dist, served by the Couponflow server at `/` (src/console.ts).
 * `npm run dev:web` serves it with hot reload and proxies the API to a running server (:8080).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/v1': 'http://localhost:8080' } },
});
