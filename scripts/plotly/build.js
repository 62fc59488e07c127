// plotly.js's own esbuild settings (node_modules/plotly.js/esbuild-config.js) on entry.js, minified,
// with a banner naming the version and the traces. Usage: node build.js <out.min.js>
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const version = require('plotly.js/package.json').version;

esbuild.build({
  entryPoints: [require('path').join(__dirname, 'entry.js')], outfile: process.argv[2],
  format: 'iife', globalName: 'Plotly', bundle: true, minify: true, sourcemap: false, legalComments: 'none',
  banner: { js: `/* plotly.js v${version} (MIT, Plotly, Inc.): core + scatter, scattergl, heatmap, bar; ` +
                'built by scripts/plotly/build.sh */' },
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
  target: 'es2016', logLevel: 'warning',
}).catch(() => process.exit(1));
