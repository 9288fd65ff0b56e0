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
import * as dailyHistory from './0012-pool-daily-history.ts';
import * as uploadOutcomes from './0013-upload-outcomes.ts';
import * as codeUploads from './0014-code-uploads.ts';
import * as integrations from './0015-integrations.ts';
import * as team from './0016-team.ts';
import * as lifecycle from './0017-lifecycle.ts';
import * as branches from './0020-branches.ts';

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
  { version: 12, name: '0012-pool-daily-history', up: dailyHistory.up },
  { version: 13, name: '0013-upload-outcomes', up: uploadOutcomes.up },
  { version: 14, name: '0014-code-uploads', up: codeUploads.up },
  { version: 15, name: '0015-integrations', up: integrations.up },
  { version: 16, name: '0016-team', up: team.up },
  { version: 17, name: '0017-lifecycle', up: lifecycle.up },
  // Numbered 0020 for the merge (0018 and 0019 are taken by branches merged alongside): the lead sets its version then.
  { version: 18, name: '0020-branches', up: branches.up },
];
