/* The progress dashboard: unit bars against pace (drawn by charts.js, shared with the ranking page), the daily
   curve, special-group coverage. */
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("progress-data");
    var shared = window.yibaoProgressCharts;  // charts.js
    if (!node || !window.echarts || !shared) return;
    var data = JSON.parse(node.textContent);
    var charts = (window.progressCharts = {});
    var green = shared.colours.good, red = shared.colours.bad, brand = "#0b6e4f", grey = shared.colours.none;
    var narrow = shared.narrow(), pct = shared.pct;

    var unitsNode = document.getElementById("chart-units");
    if (unitsNode && data.units.length) charts.units = shared.unitBars(unitsNode, data);

    var historyNode = document.getElementById("chart-history");
    if (historyNode) {
      var h = data.history;
      var history = echarts.init(historyNode);
      history.setOption({
        animation: false,
        grid: { left: 8, right: 48, top: 36, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { data: ["累计参保", "序时进度"], top: 0 },
        xAxis: { type: "category", data: h.days,
          // at most ~5 dates on a phone, ~10 on a desk: labels never run into each other
          axisLabel: { hideOverlap: true, interval: Math.max(0, Math.ceil(h.days.length / (narrow ? 5 : 10)) - 1),
            formatter: function (d) { return d.slice(5); } } },
        yAxis: { type: "value", min: 0 },
        series: [
          { name: "累计参保", type: "line", data: h.cumulative, showSymbol: false, connectNulls: false,
            itemStyle: { color: brand }, areaStyle: { opacity: 0.12 },
            markLine: h.target === null ? undefined : { symbol: "none", silent: true, lineStyle: { color: grey },
              label: { formatter: "目标 {c}" }, data: [{ yAxis: h.target }] } },
          { name: "序时进度", type: "line", data: h.expected, showSymbol: false,
            lineStyle: { type: "dashed", color: "#b54708" }, itemStyle: { color: "#b54708" } },
        ],
      });
      charts.history = history;
    }

    var specialNode = document.getElementById("chart-special");
    if (specialNode) {
      var s = data.special;
      var value = s.rate === null ? 0 : Math.round(s.rate * 10000) / 100;  // 0 of 0: an empty grey gauge and "—"
      var special = echarts.init(specialNode);
      special.setOption({
        animation: false,
        series: [{
          type: "gauge", min: 0, max: 100, radius: "90%", center: ["50%", "60%"],
          startAngle: 200, endAngle: -20, progress: { show: true, width: 14 },
          itemStyle: { color: s.rate === null ? grey : (value >= s.goal * 100 ? green : red) },
          axisLine: { lineStyle: { width: 14 } }, axisTick: { show: false }, splitLine: { length: 8 },
          axisLabel: { distance: 18, fontSize: 10 }, pointer: { show: false },
          title: { offsetCenter: [0, "35%"], fontSize: 13 },
          detail: { valueAnimation: false, offsetCenter: [0, "0%"], fontSize: 22,
            formatter: function () { return pct(s.rate); } },
          data: [{ value: value, name: s.enrolled + " / " + s.people + " 人" }],
        }],
      });
      charts.special = special;
    }

    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
