// The predictions page in a real headless browser: Debian's Chromium, driven
// by playwright-core. Run by tests/tests/predict_page.rs, which serves the page
// (the predict binary under `cargo lambda watch`, a model on the local stack):
//
//   PAGE_URL=http://127.0.0.1:PORT/lambda-url/predict/ [SCREENSHOT=file.png] node page.test.mjs
//
// Fills the form, submits, sees a prediction with its model version and stage;
// submits a latitude out of the contract's range, sees that field's error.
// Prints one JSON line of what it saw; exits 1 on the first failed check.
import { chromium } from "playwright-core";

const url = process.env.PAGE_URL;
if (!url) throw new Error("PAGE_URL is required");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

function check(ok, what) {
  if (!ok) throw new Error(`page check failed: ${what}`);
}

const browser = await chromium.launch({
  executablePath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 820 } });
  const failures = [];
  page.on("pageerror", (e) => failures.push(e.message));
  await page.goto(url);

  // What the stage serves, looked up when the page loads.
  await page.waitForFunction(() => document.getElementById("model").textContent.startsWith("Model "));
  const model = await page.textContent("#model");

  // Every field has its label; fill the form as a person would.
  for (const field of ["longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
    "population", "households", "median_income", "ocean_proximity"]) {
    const label = await page.textContent(`label[for=${field}]`);
    check(await page.getByLabel(label, { exact: true }).getAttribute("id") === field,
      `the ${field} field is named by its label`);
  }
  await page.getByLabel("Longitude").fill("-118.30");
  await page.getByLabel("Latitude").fill("34.26");
  await page.getByLabel("Median house age (years)").fill("43");
  await page.getByLabel("Total rooms").fill("1510");
  await page.getByLabel("Total bedrooms (optional)").fill("");
  await page.getByLabel("Population").fill("809");
  await page.getByLabel("Households").fill("277");
  await page.getByLabel("Median income (tens of thousands of USD)").fill("3.599");
  await page.getByLabel("Ocean proximity").selectOption("<1H OCEAN");
  await page.getByRole("button", { name: "Predict" }).click();
  await page.waitForSelector("#prediction");
  const prediction = await page.textContent("#prediction");
  const predictedBy = await page.textContent("#predicted-by");
  check(/^\$[0-9,]+$/.test(prediction), `a prediction in dollars, not ${JSON.stringify(prediction)}`);
  check(/ v[0-9]+, stage /.test(predictedBy), `the model's version and stage: ${predictedBy}`);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });

  // A bad value: the contract's reason, on that field.
  await page.getByLabel("Latitude").fill("95");
  await page.getByRole("button", { name: "Predict" }).click();
  await page.waitForFunction(() => document.getElementById("latitude-error").textContent !== "");
  const latitudeError = await page.textContent("#latitude-error");
  check(await page.getAttribute("#latitude", "aria-invalid") === "true", "latitude is marked invalid");
  check(await page.textContent("#longitude-error") === "", "the other fields have no error");
  check(await page.$("#prediction") === null, "no prediction for a bad record");
  check(await page.evaluate(() => document.activeElement.id) === "latitude", "the bad field has the focus");
  check(failures.length === 0, `no script errors: ${failures.join("; ")}`);
  console.log(JSON.stringify({ model, prediction, predictedBy, latitudeError }));
} finally {
  await browser.close();
}
