import cliProgress from 'cli-progress';

/** A progress bar in MB on an interactive terminal (stderr), nothing otherwise. */
export function fileProgress(verb: string) {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: `${verb} [{bar}] {percentage}% | {value}/{total} MB`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const mb = (n: number) => Math.round(n / 1e5) / 10;
  let started = false;
  return {
    onProgress(sent: number, total: number) {
      if (!bar) return;
      if (!started) bar.start(mb(total), 0);
      started = true;
      bar.update(mb(sent));
    },
    stop: () => bar?.stop(),
  };
}

/** The first 20 line errors of an upload or import report, and how many more there are. */
export function printLineErrors(report: { errors: { line: number; reason: string }[]; errorCount: number }) {
  for (const e of report.errors.slice(0, 20)) console.log(`  line ${e.line}: ${e.reason}`);
  if (report.errorCount > 20) console.log(`  … and ${report.errorCount - 20} more errors`);
}
