import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import type { ReportsService } from './service.ts';

const revenueOut = z.object({ currency: z.string(), amount: z.string().describe('an exact decimal, e.g. "1234.50"') });
const dayOut = z.object({ date: z.string(), assigned: z.number(), redeemed: z.number(), available: z.number() });

const reportOut = z.object({
  poolId: z.string(),
  timeZone: z.string().describe("the account's zone: the days of `daily` and `today` are its calendar days"),
  assigned: z.number(),
  redeemed: z.number(),
  redemptionRate: z.number().nullable().describe('assignments redeemed at least once ÷ assigned (null before the first assignment)'),
  medianHoursToRedeem: z.number().nullable(),
  revenue: z.array(revenueOut),
  daily: z
    .array(dayOut)
    .describe('recorded by the periodic job after each day ended: that day’s assignments and redemptions, and `available` at its end'),
  today: dayOut.describe('today so far (not recorded yet); `available` now'),
  forecast: z
    .object({
      ratePerDay: z.number(),
      runsOutOn: z.string().nullable(),
      points: z.array(z.object({ date: z.string(), available: z.number() })),
    })
    .nullable()
    .describe('unique pools: available codes ahead at the last 7 days’ rate, codes that expire or enter the cutoff leaving on their day'),
});

export function reportsRoutes(app: HttpApp, reports: ReportsService) {
  app.get(
    '/v1/pools/:poolId/report',
    {
      schema: {
        tags: ['pools'],
        summary: "A pool's report: assignments, redemptions, rate, median time to redeem, revenue per currency, daily history",
        params: z.object({ poolId: z.string().max(100) }),
        querystring: z.object({
          days: z.coerce.number().int().min(1).max(3660).default(90).describe('how many recorded days to answer (default 90)'),
        }),
        response: { 200: reportOut },
      },
    },
    async (request) => reports.poolReport(principalOf(request), request.params.poolId, request.query.days),
  );
}
