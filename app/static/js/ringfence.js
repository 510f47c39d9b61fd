/* Ringfence page behaviour. Everything works without it; it only moves focus where a
   keyboard or screen-reader user needs it after a page or an htmx swap. */
(function () {
  "use strict";

  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-rf-focus]");
    if (summary) {
      summary.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary(document);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.hasAttribute("data-rf-announce")) {
      return; /* live regions announce themselves; do not steal focus while typing */
    }
    focusErrorSummary(target);
  });

  /* The CSRF token travels with every htmx request as a header as well as in forms. */
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });
})();
