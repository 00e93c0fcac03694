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

// Icons: only the few lucide icons the templates use ({% icon "name" %}, herzstadt/web/templatetags/look.py).
const ICONS = [
  "lightbulb", "message-circle", "thumbs-up", "map-pin", "calendar-days", "users-round",
  "circle-check", "book-open-text",
];
const iconTarget = "herzstadt/web/static/vendor/lucide";
mkdirSync(iconTarget, { recursive: true });
for (const name of ICONS) {
  cpSync(`node_modules/lucide-static/icons/${name}.svg`, `${iconTarget}/${name}.svg`);
}
cpSync("node_modules/lucide-static/LICENSE", `${iconTarget}/LICENSE`);
const lucide = JSON.parse(readFileSync("node_modules/lucide-static/package.json", "utf8")).version;
writeFileSync(`${iconTarget}/VERSION`, `lucide-static ${lucide} (npm), ISC; icons: ${ICONS.join(", ")}\n`);
console.log(`vendored ${ICONS.length} lucide ${lucide} icons into ${iconTarget}`);
