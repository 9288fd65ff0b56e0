/**
 * The data of the code.assigned webhook event (README, "Outgoing webhooks"), named in this one
 * place for both writers: app.ts's onAssigned hook fills it with an assignment's values (batches:
 * the API's bulk path, the conductor), and assign-one.sql.ts with the SQL expressions of the row
 * its statement inserts (a lone HTTP assignment). Generic in the value, so a field added here must
 * be given by both.
 */
export const assignedEventData = <V>(
  pool: { id: V; merchantId: V },
  a: { id: V; code: V; source: V; contactId: V; expiresAt: V },
): Record<string, V> => ({
  assignmentId: a.id,
  poolId: pool.id,
  merchantId: pool.merchantId,
  code: a.code,
  source: a.source,
  contactId: a.contactId,
  expiresAt: a.expiresAt,
});
