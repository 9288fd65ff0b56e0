import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import type { DB } from '../../schema.ts';
import type { ConductorSettings } from './model.ts';
import * as repo from './repo.ts';

/** The account's conductor settings (`GET`/`PUT /v1/conductor/settings`): the frequency cap. */
export function settingsOps(deps: { db: Kysely<DB>; clock: Clock }) {
  const { db } = deps;

  async function settings(principal: Principal): Promise<ConductorSettings> {
    const caps = await repo.frequencyCaps(db, [principal.accountId]);
    return { frequencyCap: caps.get(principal.accountId) ?? null };
  }

  async function saveSettings(principal: Principal, input: ConductorSettings): Promise<ConductorSettings> {
    await repo.saveFrequencyCap(db, principal.accountId, input.frequencyCap, deps.clock.now());
    return settings(principal);
  }

  return { settings, saveSettings };
}
