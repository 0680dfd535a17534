// Drives Debian's Chromium through the console as members would, with JavaScript on and off.
// Run by tests/api/console/browser.rs, which starts the gateway, makes the items and writes the
// plan (argv[2]): the gateway's address, each member's .p12 and its password, the item ids, and
// where to put screenshots. Prints one line per check and "N passed, N failed"; exits 1 if any
// check failed.
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const base = plan.base;
mkdirSync(plan.screenshots, { recursive: true });

const browser = await chromium.launch({
  executablePath: plan.chromium,
  headless: true,
  // Playwright gives each launch a fresh, temporary user-data-dir.
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

let passed = 0;
let failed = 0;
const foreign = [];
const violations = [];

async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAILED - ${name}\n${error.stack}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** A browser context presenting `member`'s certificate; requests to other origins recorded. */
async function as(member, { js = true, locale = "en-GB", track = true } = {}) {
  const context = await browser.newContext({
    clientCertificates: [{ origin: base, pfxPath: plan.p12[member], passphrase: plan.password }],
    ignoreHTTPSErrors: true,
    javaScriptEnabled: js,
    locale,
    viewport: { width: 1000, height: 760 },
  });
  if (track) {
    context.on("request", (request) => {
      if (new URL(request.url()).origin !== base) foreign.push(request.url());
    });
  }
  context.on("page", (page) => {
    page.on("console", (message) => {
      const text = message.text();
      if (/Content Security Policy|Refused to/i.test(text)) violations.push(`${member}: ${text}`);
    });
    page.on("pageerror", (error) => violations.push(`${member}: ${error.message}`));
  });
  return context;
}

/** Loads `path` and checks the answer: 200 and the console's headers. */
async function load(page, path, status = 200) {
  const response = await page.goto(base + path);
  assert(response.status() === status, `${path}: ${response.status()}, not ${status}`);
  const headers = response.headers();
  assert(headers["content-security-policy"]?.includes("default-src 'none'"), `${path}: no CSP`);
  assert(headers["referrer-policy"] === "no-referrer", `${path}: no Referrer-Policy`);
  return response;
}

/** No reported URL is a link, an image or anything else the browser would load. */
async function urlsAreText(page) {
  const loaded = await page.locator("[href*='example.'], [src*='example.'], link[rel=prefetch], link[rel=preload]").count();
  assert(loaded === 0, `${loaded} reported URLs (or prefetches) in href/src`);
}

/** axe-core in the page (evaluated through the DevTools protocol, so the page's CSP stays as
 *  it is); no serious or critical violation. */
async function accessible(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(bad.length === 0, `${name}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(" ")}`).join("; ")}`);
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(plan.screenshots, `${name}.png`), fullPage });
}

for (const js of [true, false]) {
  const mode = js ? "JavaScript on" : "JavaScript off";
  const item = js ? plan.items.js_on : plan.items.js_off;
  const file = js ? "js-on.jpg" : "js-off.jpg";
  const analyst = await (await as("hotline-nl", { js })).newPage();

  await check(`${mode}: the inbox lists the referral, URLs as text, and acknowledges`, async () => {
    await load(analyst, "/console/");
    assert(analyst.url().endsWith("/console/inbox"), `landed on ${analyst.url()}`);
    assert((await analyst.locator("h1").textContent()) === "Inbox", "no Inbox heading");
    assert((await analyst.getByText(file).count()) === 1, `${file} not listed`);
    await urlsAreText(analyst);
    assert((await analyst.locator("#select-all").isVisible()) === js, "select-all shown without JS, or hidden with it");
    const ack = analyst.getByRole("button", { name: /Acknowledge every entry/ });
    if (await ack.count()) {
      await ack.click();
      await analyst.getByRole("status").filter({ hasText: "Acknowledged" }).waitFor();
    }
    if (js) await shot(analyst, "inbox", false);
  });

  await check(`${mode}: an analyst assesses an item and sends the notice through its forms (by keyboard)`, async () => {
    await load(analyst, `/console/items/${item}`);
    await urlsAreText(analyst);
    await analyst.getByLabel("Note (optional)").first().fill("illegal under NL law");
    await analyst.getByRole("button", { name: "Set status: assessed illegal" }).click();
    await analyst.getByRole("status").filter({ hasText: "assessed illegal" }).waitFor();
    await analyst.selectOption("#provider-notice_sent", "hoster-nl");
    // Keyboard only: from the note to its form's button, and Enter.
    await analyst.focus("#note-notice_sent");
    await analyst.keyboard.type("notice to AS64500");
    await analyst.keyboard.press("Tab");
    await Promise.all([analyst.waitForURL(/done=notice_sent/), analyst.keyboard.press("Enter")]);
    await analyst.getByRole("status").filter({ hasText: "notice sent" }).waitFor();
    if (js) await shot(analyst, "item");
  });

  await check(`${mode}: the hosting provider confirms the removal from its open notices`, async () => {
    const provider = await (await as("hoster-nl", { js })).newPage();
    await load(provider, "/console/");
    assert(provider.url().endsWith("/console/notices"), `landed on ${provider.url()}`);
    const row = provider.getByRole("row").filter({ hasText: file });
    if (js) await shot(provider, "notices", false);
    await row.getByRole("button", { name: /Removed/ }).click();
    await provider.waitForURL(/\/console\/notices$/);
    assert((await provider.getByText(file).count()) === 0, `${file} still open`);
    await provider.context().close();
  });

  await check(`${mode}: a forged cross-site post (even with the member's token) is refused`, async () => {
    const token = await analyst.locator("input[name=token]").first().inputValue();
    const context = await as("hotline-nl", { js, track: false });
    await context.route("https://evil.test/**", (route) => route.fulfill({
      contentType: "text/html",
      body: `<!DOCTYPE html><html lang="en"><title>x</title><form method="post" action="${base}/console/items/${plan.items.forged}/status">` +
        `<input name="token" value="${token}"><input name="status" value="assessed_not_illegal"><button>go</button></form></html>`,
    }));
    const page = await context.newPage();
    await page.goto("https://evil.test/");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/status")),
      page.getByRole("button", { name: "go" }).click(),
    ]);
    assert(response.status() === 403, `forged post answered ${response.status()}`);
    await context.close();
  });

  await check(`${mode}: another member sees neither the item nor its URL`, async () => {
    const other = await (await as("hotline-de", { js })).newPage();
    await load(other, `/console/items/${item}`, 404);
    assert((await other.getByText(file).count()) === 0, "the URL shown to another member");
    await load(other, "/console/inbox");
    assert((await other.getByText("files.example.nl").count()) === 0, "NL's items in DE's inbox");
    await load(analyst, `/console/items/${plan.items.de_only}`, 404);
    await other.context().close();
  });

  await check(`${mode}: the pages in French`, async () => {
    const page = await (await as("hotline-nl", { js, locale: "fr-FR" })).newPage();
    await load(page, "/console/inbox");
    assert((await page.getAttribute("html", "lang")) === "fr", "not lang=fr");
    assert((await page.locator("h1").textContent()) === "Boîte de réception", "no French heading");
    await load(page, "/console/stats");
    assert((await page.locator("h1").textContent()) === "Statistiques", "no French statistics");
    if (js) await shot(page, "stats-fr", false);
    await page.context().close();
  });

  if (js) {
    await check(`${mode}: several items at once, each its own change, refusals said`, async () => {
      await load(analyst, "/console/inbox");
      for (const id of [...plan.items.bulk, item]) await analyst.check(`input[name=item][value="${id}"]`);
      await analyst.selectOption("#bulk-status", "assessed_illegal");
      await analyst.getByRole("button", { name: "Apply to selected" }).click();
      await analyst.getByText("Changed: 2 · Refused: 1").waitFor();
      assert((await analyst.getByText(/Refused: .*current status is removed/).count()) === 1, "the refusal does not say why");
      await shot(analyst, "results", false);
    });

    await check(`${mode}: every page is accessible (axe-core: no serious or critical violation)`, async () => {
      const submitter = await (await as("hotline-fr", { js })).newPage();
      for (const [page, path, name] of [
        [analyst, "/console/inbox", "inbox"],
        [analyst, `/console/items/${plan.items.forged}`, "item"],
        [analyst, "/console/stats", "stats"],
        [submitter, "/console/reports", "reports"],
        [submitter, `/console/items/${item}`, "item (submitter)"],
      ]) {
        await load(page, path);
        await accessible(page, name);
      }
      // The charts load, from the gateway itself.
      await load(analyst, "/console/stats");
      const broken = await analyst.$$eval("img", (imgs) => imgs.filter((i) => !i.complete || i.naturalWidth === 0).length);
      assert(broken === 0, `${broken} charts did not load`);
      await shot(analyst, "stats");
      await load(submitter, "/console/reports");
      await shot(submitter, "reports", false);
      // The skip link comes first on the keyboard.
      await submitter.keyboard.press("Tab");
      const focused = await submitter.evaluate(() => document.activeElement?.className);
      assert(focused === "skip", `the first Tab goes to ${focused}`);
      await submitter.context().close();
    });
  }
  await analyst.context().close();
}

await check("nothing was loaded from another origin, and no CSP violation", async () => {
  assert(foreign.length === 0, `requests to other origins: ${foreign.join(", ")}`);
  assert(violations.length === 0, `violations: ${violations.join("; ")}`);
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
