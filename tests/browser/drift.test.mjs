// A drift check's HTML report in a real headless browser (Debian's Chromium,
// driven by playwright-core). Run by tests/tests/drift_check.rs:
//
//   REPORT=/path/drift.html COLUMNS=a,b,c DRIFTED=b [SCREENSHOT=file.png] node drift.test.mjs
//
// Opens the file with every network request refused but the file itself;
// checks the verdict, a section with a drawing for every column, the drifted
// ones (and only they) marked and listed first, a crossed score marked in
// each. Prints one JSON line of what it saw; exits 1 on the first failed check.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const report = process.env.REPORT;
if (!report) throw new Error("REPORT is required");
const columns = (process.env.COLUMNS || "").split(",").filter(Boolean);
const drifted = (process.env.DRIFTED || "").split(",").filter(Boolean);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

function check(ok, what) {
  if (!ok) throw new Error(`report check failed: ${what}`);
}

const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
  const url = pathToFileURL(report).href;
  const elsewhere = [];
  const failures = [];
  page.on("pageerror", (e) => failures.push(e.message));
  await page.route("**/*", (route) => {
    if (route.request().url() === url) return route.continue();
    elsewhere.push(route.request().url());
    return route.abort();
  });
  await page.goto(url);

  const verdict = await page.getAttribute("#verdict", "class");
  check(verdict.includes(drifted.length ? "drift" : "stable"), `verdict ${verdict}`);
  const sections = await page.$$eval("section.column", (all) => all.map((s) => ({
    column: s.dataset.column,
    drifted: s.classList.contains("drifted"),
    bars: s.querySelectorAll("svg rect").length,
    crossed: s.querySelectorAll("td.crossed").length,
    width: s.querySelector("svg") ? s.querySelector("svg").getBoundingClientRect().width : 0,
  })));
  const shown = sections.map((s) => s.column);
  for (const c of columns) check(shown.includes(c), `column ${c} shown`);
  check(shown.length === columns.length, `${shown.length} sections for ${columns.length} columns`);
  for (const s of sections) {
    check(s.bars >= 4 && s.width > 100, `${s.column} is drawn (${s.bars} bars, ${s.width}px)`);
    check(s.drifted === drifted.includes(s.column), `${s.column} marked ${s.drifted}`);
    if (s.drifted) check(s.crossed >= 1, `${s.column} shows its crossed score`);
  }
  const first = sections.slice(0, drifted.length).map((s) => s.column).sort();
  check(JSON.stringify(first) === JSON.stringify([...drifted].sort()), `drifted first: ${first}`);
  check(failures.length === 0, `no page errors: ${failures}`);
  check(elsewhere.length === 0, `no request elsewhere: ${elsewhere}`);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ verdict, sections: sections.length, drifted: first }));
} finally {
  await browser.close();
}
