/**
 * `npm run bench -- <name> [<name> …]`: runs the named benchmarks (when none is named: all but the
 * soak, which runs only when named; at its default size it lasts long).
 */
const benches: Record<string, () => Promise<unknown>> = {
  upload: async () => (await import('./upload.ts')).run(),
  assign: async () => (await import('./assign.ts')).run(),
  conductor: async () => (await import('./conductor.ts')).run(),
  intake: async () => (await import('./intake.ts')).run(),
  contacts: async () => (await import('./contacts.ts')).run(),
  mail: async () => (await import('./mail.ts')).run(),
  redeem: async () => (await import('./redeem.ts')).run(),
  shopify: async () => (await import('./shopify.ts')).run(),
  soak: async () => (await import('./soak.ts')).run(),
};
const namedOnly = new Set(['soak']);

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const name of names.length ? names : Object.keys(benches).filter((n) => !namedOnly.has(n))) {
  console.log(`\n=== bench: ${name} ===`);
  await benches[name]!();
}
process.exit(0);
