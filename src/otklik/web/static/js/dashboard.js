/* Otklik analytics: draws the dashboard's charts with ECharts from the page's JSON block.
 *
 * The data comes from <script type="application/json" id="an-data"> (never executed; read
 * with JSON.parse). Every clickable point carries a same-origin link to /analytics/drill,
 * the list of messages or cases behind that number. Resident text never reaches this file:
 * charts show numbers, topic names and place names from the reference tables.
 */
(function () {
  "use strict";

  var RU = document.documentElement.lang !== "en";
  var L = RU ? {
    messages: "Сообщения", perTenK: "на 10 тыс. жителей", now: "Период", previous: "Прошлый период",
    previousSame: "То же время прошлого периода",
    compliance: "В срок, %", overdue: "Просрочено, %", approx: "приблизительно (точка — центр муниципалитета)",
    noMap: "Карта не загрузилась"
  } : {
    messages: "Messages", perTenK: "per 10,000 residents", now: "Period", previous: "Previous period",
    previousSame: "Same time of the previous period",
    compliance: "On time, %", overdue: "Overdue, %", approx: "approximate (a point is the municipality's centre)",
    noMap: "The map did not load"
  };

  function readData() {
    var block = document.getElementById("an-data");
    if (!block) { return null; }
    try { return JSON.parse(block.textContent || "{}"); } catch (e) { return null; }
  }

  function safeLink(link) {
    return typeof link === "string" && link.indexOf("/analytics/") === 0 ? link : null;
  }

  function follow(links) {
    return function (params) {
      var link = links && safeLink(links[params.dataIndex]);
      if (link) { window.location.assign(link); }
    };
  }

  function make(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    chart.on("finished", function () { el.setAttribute("data-drawn", "1"); });
    return chart;
  }

  function seriesChart(id, days, series, stacked) {
    var chart = make(id);
    if (!chart || !series) { return; }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map(function (s) {
        return { name: s.name, type: stacked ? "bar" : "line", stack: stacked ? "all" : undefined,
                 data: s.values, showSymbol: false, smooth: !stacked };
      })
    });
    chart.on("click", function (params) {
      var s = series[params.seriesIndex];
      var link = s && safeLink(s.links[params.dataIndex]);
      if (link) { window.location.assign(link); }
    });
  }

  function topicsChart(data) {
    var chart = make("chart-topics");
    if (!chart || !data) { return; }
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      legend: { top: 0 },
      grid: { left: 16, right: 16, top: 32, bottom: 20, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: data.names, inverse: true,
               axisLabel: { width: 220, overflow: "truncate" } },
      series: [{ name: L.now, type: "bar", data: data.now },
               // an unfinished period is compared with the same elapsed time of the previous one
               { name: data.partial ? L.previousSame : L.previous, type: "bar",
                 data: data.previous }]
    });
    chart.on("click", follow(data.links));
  }

  function executorsChart(data) {
    var chart = make("chart-executors");
    if (!chart || !data) { return; }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 260, right: 16, top: 32, bottom: 20 },
      xAxis: { type: "value", max: 100 },
      yAxis: { type: "category", data: data.names, inverse: true,
               axisLabel: { width: 250, overflow: "truncate" } },
      series: [{ name: L.compliance, type: "bar", data: data.compliance },
               { name: L.overdue, type: "bar", data: data.overdue }]
    });
    chart.on("click", follow(data.links));
  }

  function compareChart(data) {
    var chart = make("chart-compare");
    if (!chart || !data) { return; }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 32, bottom: 60 },
      xAxis: { type: "category", data: data.names, axisLabel: { rotate: 20 } },
      yAxis: [{ type: "value", name: L.perTenK }, { type: "value", name: L.compliance, max: 100 }],
      series: [{ name: L.perTenK, type: "bar", data: data.per_10k },
               { name: L.compliance, type: "bar", yAxisIndex: 1, data: data.compliance }]
    });
    chart.on("click", follow(data.links));
  }

  function mapChart(data) {
    var el = document.getElementById("chart-map");
    if (!el || !data || !window.echarts) { return; }
    fetch(data.geo, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (geo) {
      var focus = data.focus || [];
      var zoomed = data.level !== "federal" && focus.length > 0;
      var features = geo.features.filter(function (f) {
        return !zoomed || focus.indexOf(f.properties.code) >= 0;
      });
      var names = {};
      features.forEach(function (f) {
        names[f.properties.code] = f.properties.name;
        f.properties.name = f.properties.code;
      });
      window.echarts.registerMap("otklik-ru", { type: "FeatureCollection", features: features });
      var key = data.metric === "per_10k" ? "per_10k" : "messages";
      var byCode = {};
      data.regions.forEach(function (r) { byCode[r.code] = r; });
      var values = data.regions.map(function (r) { return r[key] || 0; })
        .concat(data.points.map(function (p) { return p[key] || 0; }));
      var max = Math.max.apply(null, values.concat([1]));
      var chart = make("chart-map");
      var series = [{
        type: "map", map: "otklik-ru", geoIndex: 0,
        data: data.regions.map(function (r) { return { name: r.code, value: r[key] || 0 }; })
      }];
      if (data.points.length) {
        series.push({
          type: "scatter", coordinateSystem: "geo", name: L.approx,
          itemStyle: { color: "#d95f0e", opacity: 0.75, borderColor: "#fff", borderWidth: 1 },
          symbolSize: function (v) { return 6 + 18 * Math.sqrt((v[2] || 0) / max); },
          data: data.points.map(function (p) {
            return { name: p.name + " (" + L.approx + ")", value: [p.lon, p.lat, p[key] || 0] };
          })
        });
      }
      chart.setOption({
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            if (p.seriesType === "scatter") { return p.name + ": " + p.value[2]; }
            var r = byCode[p.name];
            return r ? r.name + ": " + r.messages + " · " + (r.per_10k === null ? "—" : r.per_10k) +
              " " + L.perTenK : (names[p.name] || p.name);
          }
        },
        visualMap: { min: 0, max: max, calculable: true, left: 0, bottom: 0, seriesIndex: 0,
                     text: [key === "per_10k" ? L.perTenK : L.messages, ""],
                     inRange: { color: ["#eef4fb", "#9ecae1", "#3182bd", "#08306b"] } },
        geo: { map: "otklik-ru", roam: true, aspectScale: 0.55,
               itemStyle: { areaColor: "#f4f4f4", borderColor: "#999" },
               emphasis: { label: { show: false } } },
        series: series
      });
      chart.on("click", function (params) {
        var link = null;
        if (params.seriesType === "map") {
          link = byCode[params.name] && safeLink(byCode[params.name].link);
        } else if (params.seriesType === "scatter") {
          link = safeLink(data.points[params.dataIndex].link);
        }
        if (link) { window.location.assign(link); }
      });
    }).catch(function () {
      el.textContent = L.noMap;
    });
  }

  function start() {
    var data = readData();
    if (!data) { return; }
    if (data.volume) { seriesChart("chart-volume", data.days, data.volume, false); }
    if (data.sentiment) { seriesChart("chart-sentiment", data.days, data.sentiment, true); }
    if (data.topics) { topicsChart(data.topics); }
    if (data.executors) { executorsChart(data.executors); }
    if (data.map) { mapChart(data.map); }
    if (data.compare) { compareChart(data.compare); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
