// The explorer's 3-D view's plotly.js: the core and scatter3d only, as window.Plotly3D
// (explorer/assets/3d/plotly-3d.min.js), fetched the first time a 3-D view is opened; the
// 2-D page's window.Plotly (plotly-explorer.min.js) is left as it is.
var Plotly3D = require('plotly.js/lib/core');
Plotly3D.register([require('plotly.js/lib/scatter3d')]);
module.exports = Plotly3D;
