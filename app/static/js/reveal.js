/* GOV.UK conditional reveal for radios, without GOV.UK's JavaScript bundle.
   Markup: a `.govuk-radios[data-rf-reveal]` whose inputs name their extra question in
   `data-aria-controls`. Without this script every extra question simply shows (and the
   server ignores the ones that do not apply), so the page still works. */
(function () {
  "use strict";

  document.documentElement.classList.add("rf-js");

  function sync(group) {
    var inputs = group.querySelectorAll('input[type="radio"][aria-controls]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var target = document.getElementById(input.getAttribute("aria-controls"));
      if (!target) {
        continue;
      }
      /* No aria-expanded: it is not allowed on a radio, whose checked state already says
         which extra question applies; aria-controls names it. */
      target.classList.toggle("govuk-radios__conditional--hidden", !input.checked);
    }
  }

  function init(root) {
    var groups = (root || document).querySelectorAll(".govuk-radios[data-rf-reveal]");
    for (var g = 0; g < groups.length; g++) {
      var group = groups[g];
      if (group.hasAttribute("data-rf-reveal-ready")) {
        continue;
      }
      group.setAttribute("data-rf-reveal-ready", "");
      var inputs = group.querySelectorAll("input[data-aria-controls]");
      for (var i = 0; i < inputs.length; i++) {
        /* aria-controls only once the script can show and hide what it points at. */
        inputs[i].setAttribute("aria-controls", inputs[i].getAttribute("data-aria-controls"));
        inputs[i].removeAttribute("data-aria-controls");
      }
      sync(group);
    }
  }

  /* A radio in one group unchecks the others of the same name, which fire no event of
     their own: re-sync every group whenever any radio changes. */
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.type === "radio") {
      var groups = document.querySelectorAll(".govuk-radios[data-rf-reveal-ready]");
      for (var g = 0; g < groups.length; g++) {
        sync(groups[g]);
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    init(event.detail && event.detail.target);
  });
})();
