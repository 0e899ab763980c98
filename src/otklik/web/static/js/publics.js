/* Otklik official pages: a page's weekly score history and its subscribers, drawn with
 * ECharts from the page's JSON block (read with JSON.parse, never executed). Numbers and
 * week labels only: no resident text reaches this file. */
(function () {
  "use strict";

  var RU = document.documentElement.lang !== "en";

  function readData() {
    var block = document.getElementById("pb-data");
    if (!block) { return null; }
    try { return JSON.parse(block.textContent || "{}"); } catch (e) { return null; }
  }

  function draw() {
    var data = readData();
    if (!data || typeof echarts === "undefined") { return; }
    var history = document.getElementById("pb-history");
    if (history) {
      echarts.init(history).setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [RU ? "Баллы" : "Score", RU ? "Место в регионе" : "Rank in region"] },
        xAxis: { type: "category", data: data.weeks },
        yAxis: [{ type: "value", min: 0, max: 100 },
                // Rank 1 on top; never a one-value axis (ECharts would widen it to 0.5…1.5).
                { type: "value", inverse: true, minInterval: 1, min: 1,
                  max: function (extent) { return Math.max(extent.max, 2); } }],
        series: [
          { name: RU ? "Баллы" : "Score", type: "line", data: data.scores, connectNulls: false },
          { name: RU ? "Место в регионе" : "Rank in region", type: "line", yAxisIndex: 1,
            data: data.ranks, lineStyle: { type: "dashed" } }
        ]
      });
    }
    var subscribers = document.getElementById("pb-subscribers");
    if (subscribers) {
      echarts.init(subscribers).setOption({
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: data.days },
        yAxis: { type: "value", scale: true },
        series: [{ name: RU ? "Подписчики" : "Subscribers", type: "line", data: data.subscribers }]
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
