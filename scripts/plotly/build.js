// plotly.js's own esbuild settings (node_modules/plotly.js/esbuild-config.js) on one entry file, minified,
// with a banner naming the version and the traces. Usage: node build.js <entry.js> <globalName> <out.min.js>
//   entry.js   -> plotly-explorer.min.js (window.Plotly: the page's 2-D figures)
//   entry3d.js -> plotly-3d.min.js (window.Plotly3D: the 3-D view, fetched when first opened)
const esbuild = require('esbuild');
const path = require('path');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const version = require('plotly.js/package.json').version;
const [entry, globalName, outfile] = process.argv.slice(2);
const traces = { 'entry.js': 'scatter, scattergl, heatmap, bar', 'entry3d.js': 'scatter3d' }[entry];
if (!traces || !globalName || !outfile) {
  console.error('usage: node build.js entry.js|entry3d.js <globalName> <out.min.js>');
  process.exit(2);
}

esbuild.build({
  entryPoints: [path.join(__dirname, entry)], outfile,
  format: 'iife', globalName, bundle: true, minify: true, sourcemap: false, legalComments: 'none',
  banner: { js: `/* plotly.js v${version} (MIT, Plotly, Inc.): core + ${traces}; built by scripts/plotly/build.sh */` },
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
  target: 'es2016', logLevel: 'warning',
}).catch(() => process.exit(1));
