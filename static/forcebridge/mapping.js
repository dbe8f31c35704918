// The mapping editor (templates/admin/syncs/mapping.html): add and remove rows without a
// reload, show a sync row's usual trait name as its target's placeholder, and fetch the
// preview of the rows as they stand (POST `_preview`, the partial put in place). Without this
// script, Preview re-renders the page; the server checks every row either way.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function renumber(body) {
    Array.prototype.forEach.call(body.rows, function (row, index) {
      row.querySelector(".fb-row-number").textContent = String(index + 1);
    });
  }

  function preview(event) {
    var button = event.currentTarget, form = button.form, box = byId("preview-box");
    event.preventDefault();
    var data = new FormData(form);
    data.set("_preview", "1");
    box.innerHTML = '<p class="fb-muted">Mapping three records…</p>';
    button.disabled = true;
    fetch(window.location.pathname, { method: "POST", body: data, credentials: "same-origin",
                                      headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function (error) {
        box.textContent = "Could not preview: " + error.message;
      })
      .finally(function () { button.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = byId("mapping-rows"), template = byId("mapping-row-template");
    if (!table || !template) return;
    var body = table.tBodies[0], usual = {};
    try { usual = JSON.parse(table.getAttribute("data-usual") || "{}"); } catch (e) { usual = {}; }

    byId("add-row").addEventListener("click", function () {
      body.appendChild(template.content.cloneNode(true));
      renumber(body);
      body.rows[body.rows.length - 1].querySelector("[name=source]").focus();
    });
    body.addEventListener("click", function (event) {
      var remove = event.target.closest(".fb-remove-row");
      if (!remove) return;
      remove.closest("tr").remove();
      renumber(body);
    });
    if (table.hasAttribute("data-usual") && table.getAttribute("data-usual") !== "") {
      // A sync row: the target's placeholder and note say which trait a blank target takes.
      body.addEventListener("input", function (event) {
        if (event.target.name !== "source" && event.target.name !== "target") return;
        var row = event.target.closest("tr"), target = row.querySelector("[name=target]"),
            note = row.querySelector(".fb-reserved"), source = row.querySelector("[name=source]").value.trim();
        target.placeholder = usual[source] || source || "";
        if (note) note.textContent = usual[source] && !target.value.trim() ? "reserved trait: " + usual[source] : "";
      });
    }
    byId("preview-mapping").addEventListener("click", preview);
  });
})();
