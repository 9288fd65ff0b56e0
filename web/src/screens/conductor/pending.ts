// TEMPORARY (WIP): the shapes of SPEC §5 until the server's model lands (branch `branches`); replaced by imports from model.ts.
export type PendingOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'isSet' | 'isNotSet';
export type PendingValue = string | number | boolean | null;
export type PendingCondition =
  | { field: string; op: PendingOp; value?: PendingValue }
  | { event: string; op: PendingOp; value?: PendingValue }
  | { coupon: string; is: 'unique' | 'static' | 'default' | 'none' | 'redeemed' }
  | { all: PendingCondition[] }
  | { any: PendingCondition[] }
  | { not: PendingCondition };
