/* Accord scorecards: the distribution chart of a scorecard, an organisation's trend chart
   (Plotly, from the page's JSON data blocks; no inline script, strict CSP), and "add a
   row" in the scorecard editor. Every page works without this file. */
(function () {
  "use strict";

  function number(value) {
    return value === null || value === undefined ? null : Number(value);
  }

  function font() {
    return { family: getComputedStyle(document.body).fontFamily, size: 12 };
  }

  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function drawDistribution() {
    var source = document.getElementById("scorecard-distribution-data");
    var element = document.getElementById("scorecard-distribution");
    if (!source || !element || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var traces = data.series.map(function (series) {
      return {
        type: "bar",
        name: series.name,
        x: data.labels,
        y: series.values,
        marker: { color: series.colour },
        hovertemplate: "%{x}: %{y}<extra>" + series.name + "</extra>"
      };
    });
    window.Plotly.newPlot(element, traces, {
      barmode: "stack",
      height: 300,
      margin: { l: 50, r: 10, t: 10, b: 50 },
      font: font(),
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", traceorder: "normal" },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { type: "category", title: { text: data.axis.x } },
      yaxis: { title: { text: data.axis.y }, rangemode: "tozero", dtick: null, automargin: true }
    }, CONFIG);
  }

  function drawTrend() {
    var source = document.getElementById("scorecard-trend-data");
    var element = document.getElementById("scorecard-trend");
    if (!source || !element || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var text = data.text;
    var quiet = [];
    data.no_activity.forEach(function (flag, index) { if (flag) { quiet.push(index); } });
    var traces = [
      {
        type: "bar",
        name: text.score,
        x: data.labels,
        y: data.scores.map(number),
        marker: { color: "#9db4e8" },
        hovertemplate: "%{y:.2f}<extra>" + text.score + "</extra>"
      },
      {
        type: "scatter",
        mode: "lines+markers",
        name: text.overall,
        x: data.labels,
        y: data.overall.map(number),
        connectgaps: false,
        line: { color: "#2457c5", width: 3 },
        hovertemplate: "%{y:.2f}<extra>" + text.overall + "</extra>"
      }
    ];
    if (quiet.length) {
      // No-activity periods: a gap (no bar), a marker and the words, never a zero. The
      // marker sits on a hidden 0-1 axis so that it reads as a label, not as a score.
      traces.push({
        type: "scatter",
        mode: "markers+text",
        name: text.no_activity,
        x: quiet.map(function (i) { return data.labels[i]; }),
        y: quiet.map(function () { return 0.5; }),
        yaxis: "y2",
        text: quiet.map(function () { return text.no_activity; }),
        textposition: "top center",
        marker: { symbol: "x-thin-open", size: 14, color: "#6b7280", line: { width: 2 } },
        hovertemplate: text.no_activity_hover + "<extra></extra>"
      });
    }
    var shapes = quiet.map(function (i) {
      return {
        type: "rect", xref: "x", yref: "paper", layer: "below",
        x0: i - 0.45, x1: i + 0.45, y0: 0, y1: 1,
        fillcolor: "rgba(107,114,128,0.10)", line: { width: 0 }
      };
    });
    window.Plotly.newPlot(element, traces, {
      height: 320,
      margin: { l: 50, r: 20, t: 30, b: 40 },
      font: font(),
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      hovermode: "x unified",
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      shapes: shapes,
      xaxis: { type: "category", automargin: true },
      yaxis: { title: { text: text.axis }, range: [0, 105], automargin: true },
      yaxis2: { overlaying: "y", range: [0, 1], visible: false, fixedrange: true }
    }, CONFIG);
  }

  // The editor: "add a row" copies the formset's empty form (<template>), renumbered.
  function enableAddRow() {
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      var prefix = button.getAttribute("data-add-row");
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
      var template = document.getElementById(prefix + "-empty-row");
      var body = document.querySelector("[data-formset-body='" + prefix + "']");
      if (!total || !template || !body) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var index = Number(total.value);
        if (max && index >= Number(max.value)) { return; }
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        body.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var first = body.lastElementChild && body.lastElementChild.querySelector("select, input");
        if (first) { first.focus(); }
      });
    });
    document.querySelectorAll(".no-js-only").forEach(function (element) { element.hidden = true; });
  }

  function start() {
    drawDistribution();
    drawTrend();
    enableAddRow();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
