// One place for the version, read by the API, the CLI and the embedded platform.
export const VERSION = '0.1.0';
