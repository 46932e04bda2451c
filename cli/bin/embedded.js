#!/usr/bin/env node
// `npm start`: run the embedded platform's TypeScript through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../../functions/embedded/main.ts');
