/* What the progress pages' charts share (loaded before dashboard.js and rollup.js): the unit bar chart of the
   dashboard and of the city's (province's) ranking. One bar per unit, sorted by rate (views._by_rate), coloured
   by its standing (pace.standing_colour): good green, near amber, bad red, none grey with "—" (no target or
   0 of 0 is not a 0%); the 序时 as a dashed line; a click opens the unit. */
(function () {
  "use strict";
  var colours = { good: "#067647", near: "#dc6803", bad: "#b42318", none: "#98a2b3" };

  function pct(rate) { return rate === null ? "—" : (Math.round(rate * 10000) / 100) + "%"; }

  function narrow() { return Boolean(window.matchMedia && window.matchMedia("(max-width: 600px)").matches); }

  function unitBarOptions(data) {
    var pace = data.pace === null ? null : Math.round(data.pace * 10000) / 100;
    return {
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
        axisLabel: { interval: 0, width: narrow() ? 84 : 150, overflow: "truncate", ellipsis: "…" },
      },
      series: [{
        name: "参保率", type: "bar", barMaxWidth: 18,
        data: data.units.map(function (u) {
          var value = u.rate === null ? 0 : Math.round(u.rate * 10000) / 100;
          return { value: value, itemStyle: { color: colours[u.colour] || colours.none } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return pct(data.units[p.dataIndex].rate); } },
        markLine: pace === null ? undefined : {
          symbol: "none", silent: true, lineStyle: { color: "#b54708", type: "dashed" },
          label: { formatter: "序时 {c}%", position: "insideEndTop" }, data: [{ xAxis: pace }],
        },
      }],
    };
  }

  /* Draw the unit bars of data.units in node (its data-height, if any, sets its height); returns the chart. */
  function unitBars(node, data) {
    if (node.dataset.height) node.style.height = node.dataset.height + "px";  // CSSOM: allowed by the CSP
    var chart = window.echarts.init(node);
    chart.setOption(unitBarOptions(data));
    chart.on("click", function (p) { var u = data.units[p.dataIndex]; if (u) window.location.href = u.url; });
    return chart;
  }

  window.yibaoProgressCharts = { colours: colours, pct: pct, narrow: narrow, unitBarOptions: unitBarOptions, unitBars: unitBars };
})();
