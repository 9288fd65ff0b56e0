/** Erasure and export of a contact (GDPR art. 17 and 15): the export's shape. Pure. */
import { z } from 'zod';
import { contactOut } from '../contacts/model.ts';
import { enrollmentOut } from '../conductor/model.ts';

/** GET /v1/contacts/{contactId}/export: everything held about the contact, by the API's names. */
export const contactExport = z.object({
  exportedAt: z.string(),
  contact: contactOut,
  events: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      properties: z.record(z.string(), z.unknown()),
      occurredAt: z.string(),
      createdAt: z.string(),
    }),
  ),
  runs: z.array(enrollmentOut),
  codes: z.array(
    z.object({
      id: z.string(),
      poolId: z.string(),
      merchantId: z.string(),
      code: z.string(),
      source: z.string(),
      expiresAt: z.string().nullable(),
      createdAt: z.string(),
      releasedAt: z.string().nullable(),
    }),
  ),
  redemptions: z.array(
    z.object({
      id: z.string(),
      code: z.string(),
      poolId: z.string(),
      merchantId: z.string(),
      orderId: z.string(),
      amount: z.string().nullable(),
      currency: z.string().nullable(),
      source: z.string(),
      redeemedAt: z.string(),
      rolledBackAt: z.string().nullable(),
    }),
  ),
  mails: z.array(
    z.object({
      id: z.string(),
      to: z.string(),
      subject: z.string(),
      html: z.string(),
      text: z.string().nullable(),
      status: z.string(),
      kind: z.string(),
      createdAt: z.string(),
      sentAt: z.string().nullable(),
    }),
  ),
  suppression: z.object({ reason: z.string(), createdAt: z.string() }).nullable(),
});
export type ContactExport = z.infer<typeof contactExport>;

/**
 * What uses a field, a group's field or a message (docs/ARCHITECTURE.md, "Data lifecycle"): named in a 409 `…_in_use` (`details`).
 * A conversation (its status, and the steps that use the thing) or a message whose templates read a
 * field; `field` says which field of a group the entry is about (group refusals).
 */
export const usageOut = z.object({
  type: z.enum(['conversation', 'message']),
  id: z.string(),
  name: z.string(),
  status: z.string().optional(),
  steps: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
  field: z.object({ id: z.string(), name: z.string() }).optional(),
});
export type UsageJson = z.infer<typeof usageOut>;

/** The 409 message: `<subject> is used by the conversation "X" (live; step "Assign"), the message "Welcome".` Pure. */
export function inUseMessage(subject: string, users: readonly UsageJson[]): string {
  const named = users.map((u) => {
    const steps = u.steps?.length ? `; ${u.steps.length === 1 ? 'step' : 'steps'} ${u.steps.map((s) => `"${s.name}"`).join(', ')}` : '';
    const what = u.type === 'conversation' ? `the conversation "${u.name}" (${u.status ?? 'draft'}${steps})` : `the message "${u.name}"`;
    return u.field ? `${what} through "${u.field.name}"` : what;
  });
  return `${subject} is used by ${named.join(', ')}.`;
}
