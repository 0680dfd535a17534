// The console works without this script. With it, a "select all" box above each list of
// items ticks or clears every item's box at once.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.hidden = false;
    if (all.labels) {
      all.labels.forEach(function (label) { label.hidden = false; });
    }
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name='item']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
});
