import type { Command } from 'commander';
import { ApiClient, CliError } from './api-client.ts';
import { formatTable } from './table.ts';
import { fileProgress, printLineErrors } from './file-upload.ts';

interface PoolJson {
  id: string;
  name: string;
  type: string;
  active: boolean;
  threshold: number | null;
  counts: { total: number; available: number; assigned: number; expired: number; withinCutoff: number };
  runsOutAt: string | null;
}

interface UploadJson {
  status: string;
  lines: number;
  imported: number;
  duplicates: number;
  rejected: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
  blank?: number;
  alreadyExpired?: number;
}

/** `couponflow pools …`: pool tasks over the REST API (COUPONFLOW_URL, COUPONFLOW_TOKEN). */
export function poolsCommands(program: Command) {
  const pools = program.command('pools').description('coupon pools, through the API (COUPONFLOW_URL, COUPONFLOW_TOKEN)');

  pools
    .command('list')
    .description('list pools with their counts')
    .option('--merchant <id>', 'merchant (default: every merchant the token may use)')
    .action(async (options: { merchant?: string }) => {
      const api = ApiClient.fromEnv();
      const merchants = options.merchant
        ? [{ id: options.merchant, name: options.merchant }]
        : (await api.request<{ items: { id: string; name: string }[] }>('GET', '/v1/merchants?limit=500')).items;
      const rows: Record<string, string | number>[] = [];
      for (const merchant of merchants) {
        let cursor: string | null = null;
        do {
          const query: string = `limit=500${cursor ? `&cursor=${cursor}` : ''}`;
          const page: { items: PoolJson[]; nextCursor: string | null } = await api.request(
            'GET',
            `/v1/merchants/${merchant.id}/pools?${query}`,
          );
          for (const p of page.items) {
            rows.push({
              merchant: merchant.name,
              id: p.id,
              name: p.name,
              type: p.type,
              active: p.active ? 'yes' : 'no',
              total: p.counts.total,
              available: p.counts.available,
              assigned: p.counts.assigned,
              expired: p.counts.expired,
              'within cutoff': p.counts.withinCutoff,
              threshold: p.threshold ?? '',
              'runs out': p.runsOutAt?.slice(0, 10) ?? '',
            });
          }
          cursor = page.nextCursor;
        } while (cursor);
      }
      if (rows.length === 0) console.log('No pools yet. Create one in the console or with POST /v1/merchants/{merchantId}/pools.');
      else console.log(formatTable(rows));
    });

  pools
    .command('upload <file>')
    .description('upload a plain-text file of codes to a unique pool')
    .requiredOption('--pool <id>', 'pool id')
    .option('--expiration <mode>', 'none | file | fixed', 'none')
    .option('--delimiter <d>', 'with --expiration file: , ; tab |', ',')
    .option('--expires-on <date>', 'with --expiration fixed: the date every code expires')
    .option('--on-invalid <mode>', 'reject (the whole file) | skip (the invalid lines)', 'reject')
    .action(
      async (file: string, options: { pool: string; expiration: string; delimiter: string; expiresOn?: string; onInvalid: string }) => {
        const api = ApiClient.fromEnv();
        const fields: Record<string, string> = {
          expiration: options.expiration,
          delimiter: options.delimiter,
          onInvalid: options.onInvalid,
        };
        if (options.expiresOn) fields.expiresOn = options.expiresOn;
        const progress = fileProgress('uploading');
        const res = await api.uploadFile<UploadJson & { error?: { code: string; message: string }; upload?: UploadJson }>(
          `/v1/pools/${options.pool}/uploads`,
          fields,
          file,
          progress.onProgress,
        );
        progress.stop();
        const report = res.body.upload ?? (res.status < 300 ? res.body : undefined);
        if (report) {
          console.log(
            `${report.status}: ${report.lines} lines read, ${report.imported} imported, ${report.duplicates} duplicates, ${report.rejected} invalid${report.blank ? `, ${report.blank} blank` : ''}`,
          );
          if (report.alreadyExpired) console.log(`  imported, but already expired: ${report.alreadyExpired}`);
          printLineErrors(report);
        }
        if (res.status >= 300)
          throw new CliError(
            `${res.body.error?.message ?? 'upload failed'} (${res.status}${res.body.error?.code ? ` ${res.body.error.code}` : ''})`,
          );
      },
    );
}
