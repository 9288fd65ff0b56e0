/** The assignment area's queries: its raw statements live in assignments.sql.ts. */
export { listAssignments, toAssignment, type AssignmentListRow, type AssignmentFilter } from './assignments.sql.ts';
export type { AssignmentStatus } from './model.ts';
