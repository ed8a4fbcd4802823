// Save: archive the path as <store>/<key>.tar unless that key is already stored.
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const store = process.env.PROMOTER_TEST_CACHE;
const key = process.env.INPUT_KEY;
const source = process.env.INPUT_PATH;
const archive = path.join(store, `${encodeURIComponent(key)}.tar`);
if (!fs.existsSync(archive) && fs.existsSync(source)) {
  fs.mkdirSync(store, { recursive: true });
  execFileSync("tar", ["-cf", `${archive}.partial`, "-C", source, "."]);
  fs.renameSync(`${archive}.partial`, archive);
  console.log(`cache saved: ${key}`);
}
