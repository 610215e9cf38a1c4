/* Accord what-if: for each date, the organisations per tier under the live and the draft
   version as grouped bars (Plotly, from the page's JSON block; no inline script). */
(function () {
  "use strict";

  function draw(element, date, data) {
    var traces = [
      { type: "bar", name: data.live_label, x: data.tiers, y: date.live, marker: { color: "#9ca3af" },
        hovertemplate: "%{x}: %{y}<extra>" + data.live_label + "</extra>" },
      { type: "bar", name: data.draft_label, x: data.tiers, y: date.draft, marker: { color: "#2457c5" },
        hovertemplate: "%{x}: %{y}<extra>" + data.draft_label + "</extra>" }
    ];
    window.Plotly.newPlot(element, traces, {
      barmode: "group",
      height: 280,
      margin: { l: 45, r: 10, t: 10, b: 40 },
      font: { family: getComputedStyle(document.body).fontFamily, size: 12 },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { type: "category", automargin: true },
      yaxis: { title: { text: data.axis }, rangemode: "tozero", automargin: true }
    }, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] });
  }

  function start() {
    var source = document.getElementById("whatif-chart-data");
    if (!source || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("[data-whatif-chart]").forEach(function (element) {
      var date = data.dates[Number(element.getAttribute("data-whatif-chart"))];
      if (date) { draw(element, date, data); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
