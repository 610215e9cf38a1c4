/* Accord: the program pages. Draws the tier charts with Plotly from the page's JSON
   (<script type="application/json">; no inline script under the strict CSP), opens and
   closes the "why?" rows of a run, and tidies the draft editor (the "other" window input
   and the N of "at least N" show only when chosen). Every page works without this file. */
(function () {
  "use strict";

  var COLOURS = ["#2457c5", "#e07b39", "#1e7d4f", "#8e44ad", "#c0392b", "#616e7c"];

  function layout(extra) {
    var base = {
      margin: { l: 60, r: 20, t: 20, b: 50 },
      height: 300,
      showlegend: false,
      font: { family: getComputedStyle(document.body).fontFamily, size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)"
    };
    Object.keys(extra).forEach(function (key) { base[key] = extra[key]; });
    return base;
  }

  function drawBar(element, data) {
    window.Plotly.newPlot(element, [{
      type: "bar",
      x: data.labels,
      y: data.values,
      marker: { color: data.labels.map(function (_label, index) { return COLOURS[index % COLOURS.length]; }) },
      text: data.values.map(String),
      textposition: "auto",
      hovertemplate: "%{x}: %{y:,}<extra></extra>"
    }], layout({
      xaxis: { type: "category", automargin: true },
      yaxis: { title: { text: data.title }, rangemode: "tozero", separatethousands: true, automargin: true }
    }), { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] });
  }

  function drawSteps(element, data) {
    window.Plotly.newPlot(element, [{
      type: "scatter",
      mode: "lines+markers",
      line: { shape: "hv", color: COLOURS[0] },
      x: data.labels,
      y: data.values,
      hovertemplate: "%{x}: %{y}<extra></extra>"
    }], layout({
      xaxis: { type: "date", automargin: true },
      yaxis: { type: "category", categoryorder: "array", categoryarray: data.categories,
               range: [-0.5, data.categories.length - 0.5], automargin: true }
    }), { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] });
  }

  function drawCharts() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-program-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-program-chart"));
      if (!source || element.getAttribute("data-drawn")) { return; }
      var data = JSON.parse(source.textContent);
      element.setAttribute("data-drawn", "1");
      if (data.kind === "steps") { drawSteps(element, data); } else { drawBar(element, data); }
    });
  }

  // -- the draft editor ----------------------------------------------------------------
  function tidy(root) {
    root.querySelectorAll("[data-window]").forEach(function (box) {
      var select = box.querySelector("select");
      var other = box.querySelector("[data-window-other]");
      if (select && other) { other.hidden = select.value !== "other"; }
    });
    root.querySelectorAll("fieldset.tier-editor").forEach(function (tier) {
      var combine = tier.querySelector("[data-combine]");
      var atLeast = tier.querySelector("[data-at-least]");
      if (combine && atLeast) {
        atLeast.hidden = combine.value !== "at_least" && !atLeast.classList.contains("has-error");
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#draft-editor")) {
      tidy(document.getElementById("draft-editor"));
    }
  });

  // -- "why?" rows ---------------------------------------------------------------------
  // A second click on an open "why?" closes it instead of loading it again (capture phase,
  // before htmx sees the click).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-why]") : null;
    if (!link) { return; }
    var row = document.getElementById("why-" + link.getAttribute("data-why"));
    if (row && !row.hidden) {
      row.hidden = true;
      link.setAttribute("aria-expanded", "false");
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("htmx:afterSwap", function (event) {
    var row = event.target.closest ? event.target.closest("tr.why-row") : null;
    if (row) {
      row.hidden = false;
      var link = document.querySelector("[data-why='" + row.id.replace("why-", "") + "']");
      if (link) { link.setAttribute("aria-expanded", "true"); }
    }
  });

  document.addEventListener("htmx:load", function (event) { tidy(event.target); drawCharts(); });

  function start() {
    tidy(document);
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
