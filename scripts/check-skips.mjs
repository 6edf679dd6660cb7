#!/usr/bin/env node
// Lists every skipped test of this `npm test` run and, with CI=true, fails (exit 1) when one is not on
// the allow-list. Usage: check-skips.mjs SKIPPED_LINES_FILE ALLOWLIST_FILE
// SKIPPED_LINES_FILE: lines '﹣ name (time) # reason' (node's spec reporter); ALLOWLIST_FILE: 'regex<TAB>why'.
import * as fs from 'node:fs';

const [skippedFile, allowFile] = process.argv.slice(2);
const skipped = fs.existsSync(skippedFile) ? fs.readFileSync(skippedFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : [];
const allow = fs.readFileSync(allowFile, 'utf8').split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => { const [re, why = ''] = l.split('\t'); return { re: new RegExp(re), text: re, why: why.trim() }; });
const ci = process.env.CI === 'true';

console.log(`Allow-list (${allowFile}): ${allow.length} entr${allow.length === 1 ? 'y' : 'ies'}`);
for (const a of allow) console.log(`  /${a.text}/ — ${a.why}`);
const bad = [];
console.log(`Skipped: ${skipped.length}`);
for (const s of skipped) {
  const hit = allow.find((a) => a.re.test(s));
  console.log(`  ${hit ? 'allowed' : ci ? 'NOT ALLOWED' : 'skipped'}  ${s.replace(/^﹣\s*/, '')}`);
  if (!hit) bad.push(s);
}
if (bad.length && ci) {
  console.error(`${bad.length} test(s) skipped in CI without being on ${allowFile}: install what they need (see each reason) or add them there with why.`);
  process.exit(1);
}
if (bad.length) console.log(`(${bad.length} not allow-listed: with CI=true this run would fail)`);
