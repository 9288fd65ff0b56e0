/** `npm run bench -- <name> [<name> …]`: runs the named benchmarks (all when none is named). */
const benches: Record<string, () => Promise<unknown>> = {
  upload: async () => (await import('./upload.ts')).run(),
  assign: async () => (await import('./assign.ts')).run(),
  conductor: async () => (await import('./conductor.ts')).run(),
  intake: async () => (await import('./intake.ts')).run(),
  contacts: async () => (await import('./contacts.ts')).run(),
  mail: async () => (await import('./mail.ts')).run(),
  redeem: async () => (await import('./redeem.ts')).run(),
  shopify: async () => (await import('./shopify.ts')).run(),
};

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const name of names.length ? names : Object.keys(benches)) {
  console.log(`\n=== bench: ${name} ===`);
  await benches[name]!();
}
process.exit(0);
