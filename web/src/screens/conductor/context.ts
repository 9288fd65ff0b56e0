import type { StepCounts } from '../../../../src/modules/conductor/model.ts';
import type { Merchant } from '../../api.ts';
import { newStepId, type Draft, type DraftStep, type Issues } from './check.ts';
import type { ConditionScope } from './Condition.tsx';
import type { Path } from './tree.ts';

/** What every step card of the tree needs: the draft and how to change it, problems, counts, condition scopes. */
export interface TreeContext {
  draft: Draft;
  merchants: Merchant[];
  change: (next: Draft) => void;
  /** Commits the message of the message step at a path. */
  commit: (path: Path) => void;
  busy: boolean;
  issues: Issues | undefined;
  counts: (stepId: string | undefined) => StepCounts | undefined;
  /** What a condition of the step at a path may name. */
  scope: (path: Path) => ConditionScope;
}

export const STEP_TYPES = {
  delay: 'Delay',
  action: 'Action',
  message: 'Message',
  split: 'Split',
  waitForEvent: 'Wait for event',
} as const;
export type StepType = keyof typeof STEP_TYPES;

const DEFAULT_NAMES: Record<StepType, string> = {
  delay: 'Wait',
  action: 'Update Segment Field with Coupon Code',
  message: 'Send message',
  split: 'Split',
  waitForEvent: 'Wait for event',
};

/** A new step of a type, with the defaults the editor offers (a split starts with one branch and otherwise). */
export function newStep(type: StepType, merchants: Merchant[]): DraftStep {
  const base = { id: newStepId(), name: DEFAULT_NAMES[type] };
  switch (type) {
    case 'delay':
      return { ...base, type, duration: 'PT1H' };
    case 'action':
      return {
        ...base,
        type,
        action: {
          type: 'assignCoupon',
          merchantId: merchants[0]?.id ?? '',
          poolId: '',
          saveCodeTo: '',
          saveExpirationTo: null,
          whenNoCode: 'exit',
        },
      };
    case 'message':
      return { ...base, type, messageId: '' };
    case 'split':
      return {
        ...base,
        type,
        branches: [{ name: 'Branch 1', condition: { event: 'properties.', op: 'gt', value: 0 }, steps: [] }],
        otherwise: { steps: [] },
      };
    case 'waitForEvent':
      return { ...base, type, event: 'order_placed', within: 'P3D', received: { steps: [] }, timedOut: { steps: [] } };
  }
}
