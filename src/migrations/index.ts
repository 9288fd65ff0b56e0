import type { Migration } from '../platform/db/migrate.ts';
import * as init from './0001-init.ts';
import * as pools from './0002-pools.ts';
import * as assignments from './0003-assignments.ts';
import * as outbox from './0004-outbox.ts';
import * as segmentation from './0005-segmentation.ts';
import * as consoleSessions from './0006-console-sessions.ts';
import * as conductor from './0007-conductor.ts';
import * as lean from './0008-lean-hot-tables.ts';
import * as engineJobs from './0009-engine-jobs.ts';
import * as mail from './0010-mail.ts';
import * as redemptions from './0011-redemptions.ts';
import * as team from './0012-team.ts';

/** Every migration, in order. Forward only: never edit one that has shipped; add the next. */
export const migrations: Migration[] = [
  { version: 1, name: '0001-init', up: init.up },
  { version: 2, name: '0002-pools', up: pools.up },
  { version: 3, name: '0003-assignments', up: assignments.up },
  { version: 4, name: '0004-outbox', up: outbox.up },
  { version: 5, name: '0005-segmentation', up: segmentation.up },
  { version: 6, name: '0006-console-sessions', up: consoleSessions.up },
  { version: 7, name: '0007-conductor', up: conductor.up },
  { version: 8, name: '0008-lean-hot-tables', up: lean.up },
  { version: 9, name: '0009-engine-jobs', up: engineJobs.up },
  { version: 10, name: '0010-mail', up: mail.up },
  { version: 11, name: '0011-redemptions', up: redemptions.up },
  { version: 12, name: '0012-team', up: team.up },
];
