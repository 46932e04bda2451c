// The errors moved to the contract (functions/contract/errors.ts): clients and the server share
// them. Re-exported here so that the core's imports keep reading as they did.
export * from '../contract/errors.ts';
