import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { principalOf } from '../accounts/principal.ts';
import { inviteBody, linkBody, linkOut, resetRequestBody, setPasswordBody, updateBody, userOut } from './model.ts';
import type { UsersService } from './service.ts';

const userParams = z.object({ userId: z.string().max(100) });

/** Users; the password sign-in itself is POST /v1/session (accounts/session-routes.ts). */
export function usersRoutes(app: HttpApp, users: UsersService) {
  app.get(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: "List the account's users",
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(userOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => users.list(principalOf(request), request.query),
  );

  app.post(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Invite a user by email: an invitation mail with a one-time link (valid 7 days) to set a password',
        body: inviteBody,
        response: { 201: userOut },
      },
    },
    async (request, reply) => reply.status(201).send(await users.invite(principalOf(request), request.body)),
  );

  app.patch(
    '/v1/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: "Change a user's role or merchants (merchantIds null: every merchant); their sessions follow at the next request",
        params: userParams,
        body: updateBody,
        response: { 200: userOut },
      },
    },
    async (request) => users.update(principalOf(request), request.params.userId, request.body),
  );

  app.delete(
    '/v1/users/:userId',
    {
      schema: { tags: ['users'], summary: 'Remove a user: their sessions end at once; their audit entries stay', params: userParams },
    },
    async (request, reply) => {
      await users.remove(principalOf(request), request.params.userId);
      return reply.status(204).send();
    },
  );

  // The one-time links' page (console #/set-password/<token>): no session, the link is the proof.
  app.post(
    '/v1/password-links/inspect',
    {
      config: { public: true },
      schema: {
        tags: ['users'],
        summary: 'What a one-time link is for (its address, invitation or reset) while it is good; it stays unused',
        body: linkBody,
        response: { 200: linkOut },
      },
    },
    async (request) => users.inspectLink(request.body.token),
  );

  app.post(
    '/v1/password-links/use',
    {
      config: { public: true },
      schema: {
        tags: ['users'],
        summary: 'Set the password through a one-time link (at least 10 characters, not a common one); the link is then used up',
        body: setPasswordBody,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await users.setPassword(request.body.token, request.body.password);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/password-resets',
    {
      config: { public: true },
      schema: {
        tags: ['users'],
        summary: "Mail a password reset link (valid 1 hour, once) if the address is a user's; the answer is the same either way",
        body: resetRequestBody,
        response: { 202: z.object({ accepted: z.literal(true) }) },
      },
    },
    async (request, reply) => {
      await users.requestReset(request.body.email);
      return reply.status(202).send({ accepted: true as const });
    },
  );
}
