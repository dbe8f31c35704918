// The action set-up form: "Add a matcher" copies the last (empty) matcher row, and choosing
// the object offers its fields in the matchers' search (the table's data-fields URL answers
// the options). Without this script the form still has one empty row to fill on each save,
// and the fields are offered once the object is saved.
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
    var sobject = document.getElementById("id_sobject");
    var connection = document.getElementById("id_connection");
    var fields = document.getElementById("matcher-fields");
    if (!sobject || !connection || !fields) return;
    sobject.addEventListener("change", function () {
      if (!sobject.value || !connection.value) return;
      var url = table.getAttribute("data-fields") + "?" + new URLSearchParams(
        { connection: connection.value, sobject: sobject.value });
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        // A 400 says why (an unknown object): saving names it on the object's field.
        if (response.ok) response.text().then(function (html) { fields.innerHTML = html; });
      });
    });
  });
})();
