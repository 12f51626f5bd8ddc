// The headless browser of every browser test: Debian's chromium, driven by
// playwright-core (npm, installed in lite/tests by `./dev test`).
// Requiring this module exits with status 2 and names what is missing, so that
// the pytest side can fail with that message instead of a stack trace.
const fs = require("fs");
const path = require("path");

const CHROMIUM = process.env.XACCEL_CHROMIUM || "/usr/bin/chromium";
let chromium;
try {
  ({ chromium } = require(path.join(__dirname, "node_modules", "playwright-core")));
} catch (e) {
  console.error("MISSING: npm package playwright-core (run: npm ci --prefix lite/tests)");
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`MISSING: ${CHROMIUM} (apt-get install chromium)`);
  process.exit(2);
}

module.exports = { chromium, CHROMIUM };
