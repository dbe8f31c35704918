// The action set-up form: "Add a matcher" copies the last (empty) matcher row, and choosing
// the object offers its fields in the matchers' search (the table's data-fields URL answers
// the options). Without this script the form still has one empty row to fill on each save,
// and the fields are offered once the object is saved.
//
// The conflict policy is the connection's: choosing another connection shows that one's
// policy (the select's data-policies) and says whose it is; the hidden policy_shown_for tells
// the server which connection's policy the page showed. The confirmation of a delete with no
// segment is shown for a delete only, naming the object.
(function () {
  "use strict";

  function followConnection() {
    var connection = document.getElementById("id_connection");
    var policy = document.getElementById("id_conflict_policy");
    var shownFor = document.getElementById("id_policy_shown_for");
    var label = document.querySelector("label[for=id_conflict_policy]");
    if (!connection || !policy || !shownFor || !label || policy.disabled) return;
    var policies = JSON.parse(policy.getAttribute("data-policies") || "{}");
    var names = JSON.parse(policy.getAttribute("data-names") || "{}");
    var shown = names[shownFor.value] || "the chosen connection";
    connection.addEventListener("change", function () {
      if (!(connection.value in policies)) return;
      policy.value = policies[connection.value];
      shownFor.value = connection.value;
      label.textContent = label.textContent.replace(shown, names[connection.value]);
      shown = names[connection.value];
    });
  }

  function confirmDeletes() {
    var box = document.getElementById("id_confirm_delete_all");
    var row = box && box.closest(".form-row");
    if (!row) return;
    var operations = document.querySelectorAll("input[name=operation]");
    function toggle() {
      var chosen = document.querySelector("input[name=operation]:checked");
      row.hidden = !(chosen && chosen.value === "delete") && !row.querySelector(".errorlist");
    }
    operations.forEach(function (input) { input.addEventListener("change", toggle); });
    toggle();
    var sobject = document.getElementById("id_sobject");
    var label = row.querySelector("label");
    if (!sobject || !label) return;
    var named = "every " + (sobject.value || "Salesforce") + " record";
    sobject.addEventListener("input", function () {
      var now = "every " + (sobject.value || "Salesforce") + " record";
      label.textContent = label.textContent.replace(named, now);
      named = now;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    followConnection();
    confirmDeletes();
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
