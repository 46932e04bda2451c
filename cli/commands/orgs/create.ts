import { createChild } from '../hierarchy.ts';

export default createChild('org');
