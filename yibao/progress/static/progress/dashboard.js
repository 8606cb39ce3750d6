/* The progress dashboard: unit bars against pace, the daily curve, special-group coverage.
   Bars come sorted by rate (views._by_rate) and coloured by their standing (pace.standing_colour):
   good green, near amber, bad red, none grey with "—" (no target or 0 of 0 is not a 0%). */
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("progress-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    var charts = (window.progressCharts = {});
    var green = "#067647", red = "#b42318", amber = "#dc6803", brand = "#0b6e4f", grey = "#98a2b3";
    var colours = { good: green, near: amber, bad: red, none: grey };
    var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    function pct(rate) { return rate === null ? "—" : (Math.round(rate * 10000) / 100) + "%"; }
    var pace = data.pace === null ? null : Math.round(data.pace * 10000) / 100;

    var unitsNode = document.getElementById("chart-units");
    if (unitsNode && data.units.length) {
      if (unitsNode.dataset.height) unitsNode.style.height = unitsNode.dataset.height + "px";  // CSSOM: allowed by the CSP
      var units = echarts.init(unitsNode);
      units.setOption({
        animation: false,
        grid: { left: 8, right: 48, top: 24, bottom: 8, containLabel: true },
        tooltip: {
          trigger: "item",
          renderMode: "richText",  // drawn on the canvas: HTML tooltips carry inline styles, which the CSP refuses
          formatter: function (p) {
            var u = data.units[p.dataIndex];
            return u.name + "\n参保 " + u.enrolled + (u.target === null ? "（未设目标）" : " / " + u.target + "，" + pct(u.rate));
          },
        },
        xAxis: { type: "value", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max)); }, axisLabel: { formatter: "{value}%" } },
        yAxis: {
          type: "category", inverse: true, data: data.units.map(function (u) { return u.name; }),
          // every name once, cut to a width that leaves the bars room on a phone
          axisLabel: { interval: 0, width: narrow ? 84 : 150, overflow: "truncate", ellipsis: "…" },
        },
        series: [{
          name: "参保率", type: "bar", barMaxWidth: 18,
          data: data.units.map(function (u) {
            var value = u.rate === null ? 0 : Math.round(u.rate * 10000) / 100;
            return { value: value, itemStyle: { color: colours[u.colour] || grey } };
          }),
          label: { show: true, position: "right", formatter: function (p) { return pct(data.units[p.dataIndex].rate); } },
          markLine: pace === null ? undefined : {
            symbol: "none", silent: true, lineStyle: { color: "#b54708", type: "dashed" },
            label: { formatter: "序时 {c}%", position: "insideEndTop" }, data: [{ xAxis: pace }],
          },
        }],
      });
      units.on("click", function (p) { var u = data.units[p.dataIndex]; if (u) window.location.href = u.url; });
      charts.units = units;
    }

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
