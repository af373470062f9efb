// SPDX-License-Identifier: Apache-2.0
// Opens the console in Debian's chromium (playwright-core, never a downloaded browser),
// sees the topic list, starts a live tail, produces a record from the form, sees it
// arrive, sees a consumer group and its lag per partition, and saves screenshots.
import { chromium } from 'playwright-core';

const [base, shot, groupsShot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // playwright starts chromium with a fresh --user-data-dir of its own (it refuses ours)
  timeout: 60000,
});
let code = 1;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + '/', { timeout: 30000 });
  await page.waitForSelector('#topics tbody tr[data-topic="orders"]', { timeout: 15000 });
  await page.waitForSelector('#health.ok', { timeout: 15000 });
  // Start the live tail: the records produced before show up.
  await page.click('#topics tbody tr[data-topic="orders"] a');
  await page.waitForFunction(() => document.querySelectorAll('#tail tbody tr').length >= 3, null, { timeout: 15000 });
  // Produce from the form; it arrives in the tail.
  await page.fill('#produce input[name=key]', 'browser');
  await page.fill('#produce input[name=value]', 'hello from chromium');
  await page.click('#produce button');
  await page.waitForFunction(() => [...document.querySelectorAll('#tail tbody td')].some((td) => td.textContent === 'hello from chromium'), null, { timeout: 15000 });
  // Create a topic from the form; it appears in the list.
  await page.fill('#create-topic input[name=name]', 'made-in-browser');
  await page.click('#create-topic button');
  await page.waitForSelector('#topics tbody tr[data-topic="made-in-browser"]', { timeout: 15000 });
  await page.click('#topics tbody tr[data-topic="orders"] a');
  await page.waitForFunction(() => document.querySelectorAll('#tail tbody tr').length >= 4, null, { timeout: 15000 });
  // Consumer groups: the kcat group read 4 of 10 records and committed (lag 6), then a
  // member joined that does not commit: 1 member, lag still 6, partitions owned.
  const grp = '#groups tbody tr[data-group="console-readers"]';
  await page.waitForSelector(grp, { timeout: 15000 });
  await page.waitForFunction((sel) => document.querySelector(sel).children[4].textContent === '6', grp, { timeout: 15000 });
  await page.waitForFunction((sel) => document.querySelector(sel).children[2].textContent === '1', grp, { timeout: 20000 });
  await page.click(`${grp} a`);
  await page.waitForSelector('#group-lags tbody tr[data-partition]', { timeout: 15000 });
  const lags = await page.$$eval('#group-lags tbody tr[data-partition]', (rows) =>
    rows.map((r) => Number(r.children[3].textContent) - Number(r.children[2].textContent) === Number(r.children[4].textContent)));
  if (!lags.every(Boolean)) throw new Error('group lag rows: lag != log end - committed');
  await page.waitForFunction(() => [...document.querySelectorAll('#group-lags tbody td')].some((td) => td.textContent === 'console-test'), null, { timeout: 15000 });
  if (groupsShot) await page.locator('#groups-panel').screenshot({ path: groupsShot });
  await page.waitForTimeout(4500); // a few chart samples
  await page.screenshot({ path: shot, fullPage: true });
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('ok');
  code = 0;
} catch (err) {
  console.error(err);
} finally {
  await browser.close();
}
process.exit(code);
