import { z } from 'zod';
import { IANAZone } from 'luxon';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from './principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { AccountsService } from './service.ts';
import { merchantOut, tokenOut } from './model.ts';
import { ROLES } from './permissions.ts';
import { noteAudit } from '../audit/service.ts';

const merchantJson = (m: { id: string; name: string; domain: string; createdAt: Date }) => ({ ...m, createdAt: m.createdAt.toISOString() });

const domainName = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
    'a domain name such as shop.example.com',
  );

export function accountsRoutes(app: HttpApp, accounts: AccountsService) {
  app.post(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an account (installation admin only); answers its admin token once',
        body: z.object({
          name: z.string().trim().min(1).max(100),
          timeZone: z
            .string()
            .refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as Europe/Paris')
            .optional(),
        }),
        response: { 201: z.object({ id: z.string(), name: z.string(), timeZone: z.string(), token: z.string() }) },
      },
    },
    async (request, reply) => {
      const { account, token } = await accounts.createAccount(principalOf(request), request.body);
      return reply.status(201).send({ id: account.id, name: account.name, timeZone: account.timeZone, token });
    },
  );

  app.get(
    '/v1/merchants',
    {
      schema: {
        tags: ['merchants'],
        summary: 'List the merchants this token may use',
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(merchantOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await accounts.listMerchants(principalOf(request), request.query);
      return { items: page.items.map(merchantJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/merchants',
    {
      schema: {
        tags: ['merchants'],
        summary: 'Create a merchant (a shop or domain of the account)',
        body: z.object({ name: z.string().trim().min(1).max(100), domain: domainName }),
        response: { 201: merchantOut },
      },
    },
    async (request, reply) => reply.status(201).send(merchantJson(await accounts.createMerchant(principalOf(request), request.body))),
  );

  app.get(
    '/v1/merchants/:merchantId',
    {
      schema: {
        tags: ['merchants'],
        summary: 'Read one merchant',
        params: z.object({ merchantId: z.string().max(100) }),
        response: { 200: merchantOut },
      },
    },
    async (request) => merchantJson(await accounts.getMerchant(principalOf(request), request.params.merchantId)),
  );

  app.get(
    '/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: "List the account's API tokens (never their secret)",
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(tokenOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await accounts.listTokens(principalOf(request), request.query);
      return {
        items: page.items.map((t) => ({ ...t, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token with a role (owner, admin, marketer, analyst); answers its secret once',
        body: z
          .object({
            name: z.string().trim().min(1).max(100),
            role: z.enum(ROLES),
            merchantIds: z.array(z.string().max(100)).max(500).optional(),
          })
          .strict(),
        response: {
          201: z.object({
            id: z.string(),
            name: z.string(),
            role: z.enum(ROLES),
            merchantIds: z.array(z.string()).nullable(),
            token: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const { role, merchantIds } = request.body;
      // Before the change: the entry is written in its transaction (the id is the one it mints).
      noteAudit({ summary: `token.create: role ${role}${merchantIds?.length ? `, limited to ${merchantIds.length} merchant(s)` : ''}` });
      return reply.status(201).send(await accounts.createApiToken(principalOf(request), request.body));
    },
  );

  app.delete(
    '/v1/tokens/:tokenId',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token (its console sessions end with it)',
        params: z.object({ tokenId: z.string().max(100) }),
      },
    },
    async (request, reply) => {
      await accounts.revokeToken(principalOf(request), request.params.tokenId);
      return reply.status(204).send();
    },
  );
}
