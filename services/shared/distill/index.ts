// Pure decisions of the closing loop (the I/O lives in job-store.ts and job-events.ts).
export * from './schedule-decision.ts';
export * from './job-lease.ts';
export * from './promotion-rule.ts';
