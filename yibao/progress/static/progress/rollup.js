/* The city's (province's) ranking chart: one bar per county (city), sorted by rate, coloured by its standing
   against its own 序时进度 (pace.standing_colour), the whole's 序时 as a dashed line; a click drills down.
   The bars are charts.js's, as on the dashboard. */
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("rollup-data");
    var chartNode = document.getElementById("chart-units");
    var shared = window.yibaoProgressCharts;  // charts.js
    if (!node || !chartNode || !window.echarts || !shared) return;
    var data = JSON.parse(node.textContent);
    if (!data.units.length) return;
    var chart = shared.unitBars(chartNode, data);
    window.rollupChart = chart;
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
