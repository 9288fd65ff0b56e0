import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { contactExport } from './model.ts';
import { privacyService, type PrivacyService } from './service.ts';
import type { Clock } from '../../platform/clock.ts';
import type { AppDatabase } from '../../schema.ts';
import type { ContactsService } from '../contacts/service.ts';
import type { SuppressionsService } from '../suppressions/service.ts';
import type { ConductorService } from '../conductor/service.ts';
import { enrollmentView } from '../conductor/service.ts';
import { backupRoutes } from './backup-routes.ts';

const params = z.object({ contactId: z.string().max(100) });

/** The data lifecycle's routes: erasure and export of a contact, the embedded database's backup. */
export function lifecycleRoutes(
  app: HttpApp,
  deps: {
    database: AppDatabase;
    clock: Clock;
    services: { contacts: ContactsService; suppressions: SuppressionsService; conductor: ConductorService };
  },
) {
  const { contacts, suppressions, conductor } = deps.services;
  backupRoutes(app, deps.database);
  const privacy: PrivacyService = privacyService({
    database: deps.database,
    clock: deps.clock,
    contacts,
    suppressions,
    runsOf: async (accountId, contactId) => (await conductor.runsOfContact(accountId, contactId)).map(enrollmentView),
  });

  app.delete(
    '/v1/contacts/:contactId',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Erase a contact (GDPR art. 17): profile, field values, events, runs’ personal data and mails go, in one transaction',
        description:
          'Its assignments and redemptions stay, unlinked from the person (a code is never handed out twice); a suppressed address stays suppressed, kept as a hash. 204; 404 for an unknown contact (also a second time).',
        params,
      },
    },
    async (request, reply) => {
      await privacy.erase(principalOf(request), request.params.contactId);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/contacts/:contactId/export',
    {
      schema: {
        tags: ['contacts'],
        summary:
          'Everything held about a contact (GDPR art. 15), as JSON: profile, fields, events, runs and steps, codes, redemptions, mails',
        params,
        response: { 200: contactExport },
      },
    },
    async (request, reply) => {
      const out = await privacy.exportContact(principalOf(request), request.params.contactId);
      return reply.header('content-disposition', `attachment; filename="contact-${request.params.contactId}.json"`).send(out);
    },
  );
}
