import type { Command } from 'commander';
import { ApiClient, CliError } from './api-client.ts';
import { fileProgress, printLineErrors } from './file-upload.ts';

interface ImportJson {
  status: string;
  lines: number;
  imported: number;
  created: number;
  updated: number;
  rejected: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
}

/** `couponflow contacts …`: contact tasks over the REST API (COUPONFLOW_URL, COUPONFLOW_TOKEN). */
export function contactsCommands(program: Command) {
  const contacts = program.command('contacts').description('contacts, through the API (COUPONFLOW_URL, COUPONFLOW_TOKEN)');

  contacts
    .command('import <file>')
    .description('import contacts from a CSV with a header email,<group>.<field>,… (and optionally status)')
    .option('--on-invalid <mode>', 'reject (the whole file) | skip (the invalid lines)', 'reject')
    .action(async (file: string, options: { onInvalid: string }) => {
      const api = ApiClient.fromEnv();
      const progress = fileProgress('importing');
      const res = await api.uploadFile<
        ImportJson & { error?: { code: string; message: string; details?: { line: number; message?: string }[] }; import?: ImportJson }
      >('/v1/contacts/import', { onInvalid: options.onInvalid }, file, progress.onProgress);
      progress.stop();
      const report = res.body.import ?? (res.status < 300 ? res.body : undefined);
      if (report) {
        console.log(
          `${report.status}: ${report.lines} lines read, ${report.imported} imported (${report.created} created, ${report.updated} updated), ${report.rejected} invalid`,
        );
        printLineErrors(report);
      }
      if (res.status >= 300) {
        for (const d of (report ? [] : (res.body.error?.details ?? [])).slice(0, 20)) if (d.message) console.error(`  ${d.message}`);
        throw new CliError(
          `${res.body.error?.message ?? 'import failed'} (${res.status}${res.body.error?.code ? ` ${res.body.error.code}` : ''})`,
        );
      }
    });
}
