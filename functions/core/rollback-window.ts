/**
 * How many of an env's latest releases a rollback can reach. Those keep their artifacts; older
 * ones are garbage-collected (core/services/artifact-gc.ts) and can only be deployed again.
 */
export const ROLLBACK_WINDOW = 100;
