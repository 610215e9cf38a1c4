/* Accord: upload progress and "working…" indicators on the import pages (no inline script). */
(function () {
  "use strict";

  // htmx reports the upload's progress on the form that sent it.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("[data-upload-progress]") : null;
    if (!form || !event.detail.lengthComputable) { return; }
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var label = form.querySelector(".upload-percent");
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    if (box) { box.hidden = false; }
    if (bar) { bar.value = percent; }
    if (label) { label.textContent = percent + " %"; }
  });

  // The server answers an accepted upload with HX-Redirect; keep the indicator until the
  // next page replaces this one.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest("[data-upload-progress]") : null;
    if (form) { form.setAttribute("aria-busy", "true"); }
  });

  // Plain forms (the preview's Import buttons): show the indicator, refuse a second submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-processing")) { return; }
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    var submitter = event.submitter;
    if (submitter && submitter.value === "cancel") { return; }
    form.setAttribute("aria-busy", "true");
    var indicator = form.querySelector(".processing");
    if (indicator) { indicator.classList.add("is-active"); }
  });
})();
