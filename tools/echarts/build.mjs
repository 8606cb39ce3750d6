// Build ../../yibao/static/vendor/echarts.custom.min.js (run: npm ci && npm run build).
import { build } from "esbuild";
import { copyFileSync, readFileSync } from "node:fs";

const out = new URL("../../yibao/static/vendor/echarts.custom.min.js", import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL("node_modules/echarts/package.json", import.meta.url)));
await build({
  entryPoints: [new URL("entry.js", import.meta.url).pathname],
  bundle: true, minify: true, format: "iife", target: ["es2017"], outfile: out, legalComments: "none",
  banner: { js: `/*! ECharts ${version} custom build (bar, line, gauge; grid, tooltip, legend, markLine; canvas). Apache-2.0, see echarts.custom.LICENSE */` },
});
copyFileSync(new URL("node_modules/echarts/LICENSE", import.meta.url).pathname,
  new URL("../../yibao/static/vendor/echarts.custom.LICENSE", import.meta.url).pathname);
console.log("wrote", out);
