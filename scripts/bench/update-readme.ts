/** `npm run bench:readme`: the bench's tables in docs/performance.md from the newest file in bench/results. */
import path from 'node:path';
import { benchTablePage, updateBenchTable } from './readme-table.js';

const root = path.resolve(import.meta.dirname, '../..');
const file = updateBenchTable(path.join(root, benchTablePage), path.join(root, 'bench/results'));
console.log(`${benchTablePage}: performance tables from ${path.relative(root, file)}`);
