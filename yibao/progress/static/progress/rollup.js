/* The city's (province's) ranking chart: one bar per county (city), sorted by rate, coloured by its standing
   against its own 序时进度 (pace.standing_colour), the whole's 序时 as a dashed line; a click drills down. */
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("rollup-data");
    var chartNode = document.getElementById("chart-units");
    if (!node || !chartNode || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    if (!data.units.length) return;
    var colours = { good: "#067647", near: "#dc6803", bad: "#b42318", none: "#98a2b3" };
    var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    function pct(rate) { return rate === null ? "—" : (Math.round(rate * 10000) / 100) + "%"; }
    var pace = data.pace === null ? null : Math.round(data.pace * 10000) / 100;
    if (chartNode.dataset.height) chartNode.style.height = chartNode.dataset.height + "px";  // CSSOM: allowed by the CSP
    var chart = echarts.init(chartNode);
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 48, top: 24, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "item", renderMode: "richText",
        formatter: function (p) {
          var u = data.units[p.dataIndex];
          return u.name + "\n参保 " + u.enrolled + (u.target === null ? "（未设目标）" : " / " + u.target + "，" + pct(u.rate));
        },
      },
      xAxis: { type: "value", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max)); }, axisLabel: { formatter: "{value}%" } },
      yAxis: {
        type: "category", inverse: true, data: data.units.map(function (u) { return u.name; }),
        axisLabel: { interval: 0, width: narrow ? 84 : 150, overflow: "truncate", ellipsis: "…" },
      },
      series: [{
        name: "参保率", type: "bar", barMaxWidth: 18,
        data: data.units.map(function (u) {
          return { value: u.rate === null ? 0 : Math.round(u.rate * 10000) / 100, itemStyle: { color: colours[u.colour] || colours.none } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return pct(data.units[p.dataIndex].rate); } },
        markLine: pace === null ? undefined : {
          symbol: "none", silent: true, lineStyle: { color: "#b54708", type: "dashed" },
          label: { formatter: "序时 {c}%", position: "insideEndTop" }, data: [{ xAxis: pace }],
        },
      }],
    });
    chart.on("click", function (p) { var u = data.units[p.dataIndex]; if (u) window.location.href = u.url; });
    window.rollupChart = chart;
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
