/* Accord: draws the governance dashboard's charts with Plotly from the page's JSON data
   (<script type="application/json" id="governance-chart-data">; no inline script, strict CSP).
   Each chart has its own labels; the tables beside the charts hold the same figures. */
(function () {
  "use strict";

  var COLOURS = ["#2457c5", "#c0392b", "#1e7d4f", "#e07b39", "#8e44ad"];

  function number(value) {
    return value === null || value === undefined ? null : Number(value);
  }

  function draw(element, chart) {
    var traces = chart.series.map(function (series, index) {
      var trace = {
        name: series.name,
        x: chart.labels,
        y: series.values.map(number),
        type: series.type === "bar" ? "bar" : "scatter",
        marker: { color: COLOURS[index % COLOURS.length] },
        hovertemplate: "%{y}<extra>" + series.name + "</extra>"
      };
      if (trace.type === "scatter") {
        trace.mode = "lines+markers";
        trace.connectgaps = false;
      }
      return trace;
    });
    var yaxis = { title: { text: chart.y_title || "" }, rangemode: "tozero", automargin: true };
    if (chart.range) { yaxis.range = chart.range; }
    if (chart.integer) {
      var highest = Math.max.apply(null, chart.series.map(function (s) {
        return Math.max.apply(null, s.values.map(number));
      }));
      yaxis.tickformat = ",d";
      if (highest < 10) { yaxis.dtick = 1; yaxis.range = [0, Math.max(highest, 1) * 1.1]; }
    }
    var layout = {
      margin: { l: 60, r: 20, t: 30, b: 40 },
      height: 300,
      barmode: "group",
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      hovermode: "x unified",
      font: { family: getComputedStyle(document.body).fontFamily, size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { type: "category", automargin: true },
      yaxis: yaxis
    };
    window.Plotly.newPlot(element, traces, layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d"]
    });
  }

  function start() {
    var source = document.getElementById("governance-chart-data");
    if (!source || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (chart) {
      var element = document.getElementById(chart.id);
      if (element) { draw(element, chart); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
