export { ssmExecSession, type SsmExecOptions, type SsmSessionRef } from './session.ts';
