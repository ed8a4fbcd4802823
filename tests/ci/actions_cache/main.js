// Restore: extract <store>/<key>.tar into the path when it exists (actions/cache
// keeps a tar archive per key too; here uncompressed, on local disk).
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const store = process.env.PROMOTER_TEST_CACHE;
const key = process.env.INPUT_KEY;
const target = process.env.INPUT_PATH;
const archive = path.join(store, `${encodeURIComponent(key)}.tar`);
const hit = fs.existsSync(archive);
if (hit) {
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xf", archive, "-C", target]);
}
console.log(`cache ${hit ? "hit" : "miss"}: ${key}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `cache-hit=${hit}\n`);
