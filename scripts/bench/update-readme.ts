/** `npm run bench:readme`: the README's performance table from the newest file in bench/results. */
import path from 'node:path';
import { updateReadme } from './readme-table.js';

const root = path.resolve(import.meta.dirname, '../..');
const file = updateReadme(path.join(root, 'README.md'), path.join(root, 'bench/results'));
console.log(`README.md: performance table from ${path.relative(root, file)}`);
