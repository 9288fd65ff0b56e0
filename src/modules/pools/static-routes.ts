import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import type { StaticRow } from './static-rows.ts';
import type { StaticCodesService } from './static-codes.ts';
import { problem, rowIn, rowOut } from './model.ts';

const rowsIn = z.object({ rows: z.array(rowIn).max(1000) });
const rowJson = (r: StaticRow) => ({
  code: r.code,
  expiresOn: r.expiresAt?.toISOString() ?? null,
  daysAfterDistribution: r.daysAfterDistribution,
  beginDistribution: r.begin.toISOString(),
  endDistribution: r.end.toISOString(),
});
const poolParams = z.object({ poolId: z.string().max(100) });

export function staticCodesRoutes(app: HttpApp, service: StaticCodesService) {
  app.get(
    '/v1/pools/:poolId/static-codes',
    {
      schema: {
        tags: ['static codes'],
        summary: "A static pool's rows",
        params: poolParams,
        response: { 200: z.object({ rows: z.array(rowOut), warnings: z.array(problem) }) },
      },
    },
    async (request) => ({ rows: (await service.listRows(principalOf(request), request.params.poolId)).map(rowJson), warnings: [] }),
  );

  app.put(
    '/v1/pools/:poolId/static-codes',
    {
      schema: {
        tags: ['static codes'],
        summary: "Replace a static pool's rows (validated first; rows with errors are refused)",
        params: poolParams,
        body: rowsIn,
        response: { 200: z.object({ rows: z.array(rowOut), warnings: z.array(problem) }) },
      },
    },
    async (request) => {
      const saved = await service.saveRows(principalOf(request), request.params.poolId, request.body.rows);
      return { rows: saved.rows.map(rowJson), warnings: saved.warnings };
    },
  );

  app.post(
    '/v1/pools/:poolId/static-codes/validate',
    {
      schema: {
        tags: ['static codes'],
        summary: 'Check rows without saving: errors and warnings, each naming its row and field',
        params: poolParams,
        body: rowsIn,
        response: { 200: z.object({ valid: z.boolean(), errors: z.array(problem), warnings: z.array(problem) }) },
      },
    },
    async (request) => {
      const { valid, errors, warnings } = await service.validate(principalOf(request), request.params.poolId, request.body.rows);
      return { valid, errors, warnings };
    },
  );
}
