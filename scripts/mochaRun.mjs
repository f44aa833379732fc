// Runs mocha over the given compiled test files and writes {passes, failures, pending, failed} to a
// file; `failed` names each failed test with the start of its error, for the summary at the end.
// Usage: node scripts/mochaRun.mjs STATS_FILE GREP FILE...
import Mocha from 'mocha';
import * as fs from 'node:fs';

const [statsFile, grep, ...files] = process.argv.slice(2);
const mocha = new Mocha({ timeout: 180000, reporter: 'spec', ...(grep ? { grep } : {}) });
for (const f of files) mocha.addFile(f);
await mocha.loadFilesAsync();
const failed = [];
const runner = mocha.run(() => {
  const { passes, failures, pending } = runner.stats;
  fs.writeFileSync(statsFile, JSON.stringify({ passes, failures, pending, failed }));
  // Tests may leave fixture processes with open handles; exit explicitly once reported.
  process.exit(failures ? 1 : 0);
});
runner.on('fail', (t, err) => failed.push(`${t.fullTitle()}: ${String(err?.message ?? err)}`));
