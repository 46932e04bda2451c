import { listChildren } from '../hierarchy.ts';

export default listChildren('project');
