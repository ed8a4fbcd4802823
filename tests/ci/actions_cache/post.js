// Save: copy the path to <store>/<key> unless that key is already stored.
const fs = require("fs");
const path = require("path");
const store = process.env.PROMOTER_TEST_CACHE;
const key = process.env.INPUT_KEY;
const source = process.env.INPUT_PATH;
const saved = path.join(store, encodeURIComponent(key));
if (!fs.existsSync(saved) && fs.existsSync(source)) {
  fs.mkdirSync(store, { recursive: true });
  fs.cpSync(source, saved, { recursive: true, verbatimSymlinks: true });
  console.log(`cache saved: ${key}`);
}
