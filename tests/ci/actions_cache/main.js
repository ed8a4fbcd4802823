// Restore: copy <store>/<key> to the path when it exists (symlinks kept as they are).
const fs = require("fs");
const path = require("path");
const store = process.env.PROMOTER_TEST_CACHE;
const key = process.env.INPUT_KEY;
const target = process.env.INPUT_PATH;
const saved = path.join(store, encodeURIComponent(key));
const hit = fs.existsSync(saved);
if (hit) {
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(saved, target, { recursive: true, verbatimSymlinks: true });
}
console.log(`cache ${hit ? "hit" : "miss"}: ${key}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `cache-hit=${hit}\n`);
