// Copies the front-end packages from node_modules into the Django static folder (run: npm run vendor).
import { cpSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";

const target = "herzstadt/web/static/vendor/leaflet";
mkdirSync(target, { recursive: true });
for (const file of ["leaflet.js", "leaflet.js.map", "leaflet.css"]) {
  cpSync(`node_modules/leaflet/dist/${file}`, `${target}/${file}`);
}
cpSync("node_modules/leaflet/dist/images", `${target}/images`, { recursive: true });
cpSync("node_modules/leaflet/LICENSE", `${target}/LICENSE`);
const { version } = JSON.parse(readFileSync("node_modules/leaflet/package.json", "utf8"));
writeFileSync(`${target}/VERSION`, `leaflet ${version} (npm), BSD-2-Clause\n`);
console.log(`vendored leaflet ${version} into ${target}`);
