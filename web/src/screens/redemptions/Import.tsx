import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { CSV_IMPORT, ImportDialog, LineErrors, OnInvalidChoice, type ImportTexts } from '../../importing.tsx';
import { fmtNumber } from '../../ui.tsx';
import { importRedemptions, type RedemptionImportReport } from './api.ts';

/** The report of an import: counts, then the first line errors. */
export function ImportReport({ report }: { report: RedemptionImportReport }) {
  const rejected = report.status === 'rejected';
  return (
    <div className={`report ${rejected ? 'rejected' : 'imported'}`} role="status" aria-label="Import report">
      <p>
        <strong>{rejected ? 'Rejected: nothing was recorded.' : 'Imported.'}</strong> {fmtNumber(report.lines)} lines read,{' '}
        {fmtNumber(report.recorded)} redemptions recorded, {fmtNumber(report.duplicates)} already recorded, {fmtNumber(report.rejected)} not
        recorded.
      </p>
      <LineErrors errors={report.errors} errorCount={report.errorCount} />
    </div>
  );
}

const TEXTS: ImportTexts = {
  ...CSV_IMPORT,
  processing: 'Recording…',
  cancelled: (
    <>
      <strong>Cancelled.</strong> The import was stopped; nothing was recorded.
    </>
  ),
};

/** Import a CSV of orders that used codes (code,orderId[,redeemedAt,amount,currency,email]), with progress. */
export function RedemptionsImport({ merchantId, onClose }: { merchantId: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [onInvalid, setOnInvalid] = useState<'reject' | 'skip'>('reject');
  return (
    <ImportDialog
      title="Import redemptions"
      onClose={onClose}
      texts={TEXTS}
      fileHint="Header: code,orderId and optionally redeemedAt, amount, currency, email."
      send={(file, onProgress, signal) => importRedemptions(merchantId, file, onInvalid, onProgress, signal)}
      report={(report) => <ImportReport report={report} />}
      onSettled={() => void queryClient.invalidateQueries({ queryKey: ['redemptions', merchantId] })}
      options={() => (
        <OnInvalidChoice
          legend="Lines that cannot be recorded"
          value={onInvalid}
          onChange={setOnInvalid}
          reject="Reject the whole file"
          skip="Skip them, record the rest"
        />
      )}
    />
  );
}
