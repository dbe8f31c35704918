// The guided sync set-up (templates/admin/syncs/sync/setup.html): search the objects and
// continue when one is chosen; search, select all/none and count the fields; show only what
// the chosen format and schedule use; "Test filter" fetched in place. Everything also works
// without this script (the buttons are plain GET submits); the server validates on save.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function searchable(input, items, text) {
    if (!input) return;
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLowerCase();
      items().forEach(function (item) { item.hidden = wanted !== "" && text(item).indexOf(wanted) < 0; });
      if (input.id === "field-search") countFields();
    });
  }

  function fieldBoxes(visibleOnly) {
    return Array.prototype.filter.call(
      document.querySelectorAll("#field-table input[name=fields]"),
      function (box) { return !visibleOnly || !box.closest("tr").hidden; });
  }

  function countFields() {
    var out = byId("field-count");
    if (!out) return;
    var all = fieldBoxes(false);
    out.textContent = all.filter(function (b) { return b.checked; }).length + " of " + all.length + " fields selected";
  }

  function showFor(format) {
    document.querySelectorAll("[data-formats]").forEach(function (row) {
      row.hidden = row.getAttribute("data-formats").split(" ").indexOf(format) < 0;
    });
    var step = byId("step-format"), custom = byId("custom-object");
    if (step && custom) custom.hidden = step.getAttribute("data-needs-type").split(" ").indexOf(format) < 0;
  }

  function showSchedule(kind) {
    var every = byId("row-every_minutes"), cron = byId("row-cron");
    if (every) every.hidden = kind !== "minutes";
    if (cron) cron.hidden = kind !== "cron";
  }

  function testFilter(event) {
    var button = event.currentTarget, form = button.form, box = byId("filter-box");
    event.preventDefault();
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    params.set("_test_filter", "1");
    box.innerHTML = '<p id="filter-result" class="fb-muted">Asking Salesforce…</p>';
    button.disabled = true;
    fetch(button.getAttribute("data-url") + "?" + params.toString(),
          { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function (error) {
        box.innerHTML = "";
        var p = document.createElement("p");
        p.id = "filter-result"; p.className = "fb-bad";
        p.textContent = "Could not test the filter: " + error.message;
        box.appendChild(p);
      })
      .finally(function () { button.disabled = false; });
  }

  // A GET button ("Continue", "Test filter" without fetch) carries the typed values in the
  // address; the CSRF token has no business there.
  function withoutToken(event) {
    var submitter = event.submitter, token = event.target.querySelector("[name=csrfmiddlewaretoken]");
    if (token) token.disabled = !!submitter && submitter.getAttribute("formmethod") === "get";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var setupForm = byId("sync-setup");
    if (setupForm) setupForm.addEventListener("submit", withoutToken);
    var select = byId("id_sobject"), choose = byId("choose-object");
    searchable(byId("object-search"),
               function () { return select ? Array.prototype.slice.call(select.options) : []; },
               function (option) { return (option.text + " " + option.value).toLowerCase(); });
    if (select && choose) select.addEventListener("change", function () { if (select.value) choose.click(); });

    searchable(byId("field-search"),
               function () { return Array.prototype.slice.call(document.querySelectorAll("#field-table tbody tr")); },
               function (row) { return row.getAttribute("data-search"); });
    [["select-all", true], ["select-none", false]].forEach(function (pair) {
      var button = byId(pair[0]);
      if (button) button.addEventListener("click", function () {
        fieldBoxes(true).forEach(function (box) { box.checked = pair[1]; });
        countFields();
      });
    });
    var table = byId("field-table");
    if (table) table.addEventListener("change", countFields);
    countFields();

    var format = byId("id_data_format");
    if (format) { showFor(format.value); format.addEventListener("change", function () { showFor(format.value); }); }
    var kind = byId("id_schedule_kind");
    if (kind) { showSchedule(kind.value); kind.addEventListener("change", function () { showSchedule(kind.value); }); }
    // "New object type" opens the two names (open already when they hold the preset's).
    var newType = byId("new-type"), newTypeButton = byId("new-type-button");
    if (newType && newTypeButton && !byId("id_new_type_singular").value && !byId("id_new_type_plural").value
        && !newType.querySelector(".errorlist")) {
      newType.hidden = true;
      newTypeButton.hidden = false;
      newTypeButton.addEventListener("click", function () {
        newType.hidden = false;
        newTypeButton.hidden = true;
        byId("id_object_type").value = "";
        byId("id_new_type_singular").focus();
      });
    }
    var test = byId("test-filter");
    if (test) test.addEventListener("click", testFilter);
  });
})();
