// The action set-up form: "Add a matcher" copies the last (empty) matcher row. Without this
// script the form still has one empty row to fill on each save.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("add-matcher");
    var table = document.getElementById("matcher-rows");
    if (!button || !table) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = table.querySelectorAll("tr.fb-matcher-row");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      table.querySelector("tbody").appendChild(copy);
      copy.querySelector("input").focus();
    });
  });
})();
