// The explorer's plotly.js: the core and the four trace types it draws (explorer/assets/plotly-explorer.min.js).
var Plotly = require('plotly.js/lib/core');
Plotly.register([
  require('plotly.js/lib/scatter'),
  require('plotly.js/lib/scattergl'),
  require('plotly.js/lib/heatmap'),
  require('plotly.js/lib/bar'),
]);
window.Plotly = Plotly;
module.exports = Plotly;
