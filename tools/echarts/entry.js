// Only what yibao/progress/static/progress/dashboard.js uses: bar, line and gauge charts,
// grid, tooltip, legend and markLine, drawn on canvas. Exposed as window.echarts like the full build.
import * as echarts from "echarts/core";
import { BarChart, GaugeChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GaugeChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent,
  CanvasRenderer]);

window.echarts = echarts;
