/* Accord: draws an organisation's KPI charts with Plotly from the page's JSON data
   (<script type="application/json" id="kpi-chart-data">; no inline script, strict CSP). */
(function () {
  "use strict";

  var COLOURS = ["#2457c5", "#e07b39", "#1e7d4f", "#8e44ad", "#c0392b"];

  function number(value) {
    return value === null || value === undefined ? null : Number(value);
  }

  function axisTitle(series, axis) {
    var units = series.filter(function (s) { return s.axis === axis && s.unit; })
      .map(function (s) { return s.unit; });
    return units.length ? units[0] : "";
  }

  function draw(element, chart, labels) {
    var traces = chart.series.map(function (series, index) {
      var trace = {
        name: series.name,
        x: labels,
        y: series.values.map(number),
        yaxis: series.axis,
        type: series.type === "bar" ? "bar" : "scatter",
        marker: { color: COLOURS[index % COLOURS.length] },
        hovertemplate: "%{y:,.2f}" + (series.unit === "%" ? " %" : "") + "<extra>" + series.name + "</extra>"
      };
      if (trace.type === "scatter") {
        trace.mode = "lines+markers";
        trace.connectgaps = false;
      }
      return trace;
    });
    var hasY2 = chart.series.some(function (s) { return s.axis === "y2"; });
    var layout = {
      margin: { l: 60, r: hasY2 ? 60 : 20, t: 30, b: 40 },
      height: 320,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      hovermode: "x unified",
      font: { family: getComputedStyle(document.body).fontFamily, size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { type: "category", automargin: true },
      yaxis: { title: { text: axisTitle(chart.series, "y") }, rangemode: "tozero", separatethousands: true, automargin: true }
    };
    if (hasY2) {
      layout.yaxis2 = {
        title: { text: axisTitle(chart.series, "y2") }, overlaying: "y", side: "right",
        rangemode: "tozero", separatethousands: true, showgrid: false, automargin: true
      };
    }
    window.Plotly.newPlot(element, traces, layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d"]
    });
  }

  function start() {
    var source = document.getElementById("kpi-chart-data");
    if (!source || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = data.charts[Number(element.getAttribute("data-chart"))];
      if (chart) { draw(element, chart, data.labels); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
