// A picture of a report or dashboard page, as README's docs/report/fortunes-page.png was made:
//   node tests/browser/screenshot.mjs PAGE OUT.png [--width W] [--height H] [--open-best]
// PAGE: a report's index.html (qdgen report -o DIR) or a dashboard's URL. --open-best clicks
// the best elite's cell first, so that the detail panel shows its text and lineage. The
// picture is the viewport (W x H, default 1400 x 1000), not the whole page.
import path from "node:path";

import { launchChromium } from "./chromium.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = args.splice(at, 2)[1];
  if (!/^\d+$/.test(value || "")) throw new Error(`${name}: expected a number of pixels, got '${value}'`);
  return Number(value);
};
const width = option("--width", 1400);
const height = option("--height", 1000);
const openBest = args.includes("--open-best");
const [page, out] = args.filter((a) => a !== "--open-best");
if (!page || !out) {
  console.error("usage: node tests/browser/screenshot.mjs PAGE OUT.png [--width W] [--height H] [--open-best]");
  process.exit(2);
}

const browser = await launchChromium(undefined, { width, height });
try {
  const tab = await browser.context.newPage();
  await tab.goto(/^https?:\/\//.test(page) ? page : "file://" + path.resolve(page));
  await tab.waitForSelector("body[data-state=ready]", { timeout: 30000 });
  if (openBest) {
    const best = await tab.$$eval("#archive-map .cell[data-id]", (cells) => {
      let top = null;
      for (const cell of cells)
        if (top === null || Number(cell.dataset.objective) > Number(top.dataset.objective)) top = cell;
      return top && top.dataset.id;
    });
    if (best === null) throw new Error(`${page}: no elite to open`);
    await tab.click(`#archive-map .cell[data-id="${best}"]`);
    await tab.waitForSelector(`#elite-detail[data-id="${best}"]`, { timeout: 10000 });
    await tab.mouse.move(0, 0);  // no tooltip over the map
  }
  await tab.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
