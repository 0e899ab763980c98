/* Otklik fakes: a fake's spread (copies per day by source, cumulative reach) with ECharts,
 * from the page's JSON block (read with JSON.parse, never executed). Numbers and source names
 * only: no resident text reaches this file. */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("fake-data");
    var box = document.getElementById("fake-chart");
    if (!block || !box || typeof echarts === "undefined") { return; }
    var data;
    try { data = JSON.parse(block.textContent || "{}"); } catch (e) { return; }
    var ru = document.documentElement.lang !== "en";
    var series = (data.series || []).map(function (s) {
      return { name: s.name, type: "bar", stack: "copies", data: s.data };
    });
    series.push({ name: ru ? "Охват (накопленный)" : "Reach (cumulative)", type: "line",
                  yAxisIndex: 1, data: data.reach || [] });
    echarts.init(box).setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 50, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.days || [] },
      yAxis: [{ type: "value", name: ru ? "Копии" : "Copies", minInterval: 1 },
              { type: "value", name: ru ? "Охват" : "Reach" }],
      series: series
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
}());
