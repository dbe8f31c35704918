// The segment builder (templates/admin/mappings/segment/builder.html): condition rows that
// write the conditions JSON into the form's textarea (what is saved), and the live members
// box: the unsaved segment posted to members/ (debounced) and its partial put in place. The
// server checks everything (mappings/conditions.py); this script only shapes the JSON.
// Without it, the textarea is the field. Conditions the rows cannot show stay as JSON.
(function () {
  "use strict";

  var config, rows, textarea, box, timer = null, asked = 0;

  function byId(id) { return document.getElementById(id); }

  function element(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function option(value, label, selected) {
    var node = element("option", { value: value, text: label });
    node.selected = !!selected;
    return node;
  }

  // --- What the segment is over -------------------------------------------------------
  function entity() { return byId("id_entity").value; }
  function typeById(id) {
    return config.types.filter(function (t) { return String(t.id) === String(id); })[0];
  }
  function typeBySingular(name) {
    return config.types.filter(function (t) { return t.singular === name; })[0];
  }
  // The datalist of attribute names for people ("people") or objects of a type (its id).
  function keysList(kind) {
    var id = "segment-keys-" + kind, list = byId(id);
    if (list) return id;
    var keys = kind === "people" ? config.people : ((typeById(kind) || {}).keys || []);
    list = element("datalist", { id: id });
    keys.forEach(function (key) { list.appendChild(element("option", { value: key })); });
    byId("segment-builder").appendChild(list);
    return id;
  }
  function topKind() {
    if (entity() === "people") return "people";
    return byId("id_object_type").value || "none";
  }

  // --- One condition row --------------------------------------------------------------
  function valueInput(operator, value) {
    if (config.noValue.indexOf(operator) >= 0) return null;
    if (operator === "in_list") {
      var list = element("textarea", { "class": "fb-list", "aria-label": "values, one a line",
                                       placeholder: "one value a line" });
      list.value = Array.isArray(value) ? value.join("\n") : (value == null ? "" : String(value));
      return list;
    }
    var number = config.numbers.indexOf(operator) >= 0;
    var input = element("input", { type: number ? "number" : "text", "class": "fb-value",
                                   "aria-label": "value", step: "any",
                                   placeholder: operator === "before" || operator === "after" ?
                                     "2024-05-01 or a Unix time" : "value" });
    input.value = value == null ? "" : (Array.isArray(value) ? value.join(", ") : String(value));
    return input;
  }

  function plainRow(condition, kind) {
    var operator = condition.operator || "equals";
    var attribute = element("input", { type: "text", "class": "fb-attr", list: keysList(kind),
                                       autocomplete: "off", placeholder: "attribute, e.g. plan",
                                       "aria-label": "attribute" });
    attribute.value = condition.attribute || "";
    var select = element("select", { "class": "fb-op", "aria-label": "operator" });
    config.operators.forEach(function (pair) {
      select.appendChild(option(pair[0], pair[1], pair[0] === operator));
    });
    var holder = element("span", { "class": "fb-value-box" }, [valueInput(operator, condition.value)]);
    if (operator === "within_days") holder.appendChild(element("span", { "class": "fb-unit", text: "days" }));
    var row = element("div", { "class": "fb-cond fb-plain", "data-kind": kind }, [
      attribute, select, holder, removeButton()]);
    select.addEventListener("change", function () {
      var old = holder.querySelector(".fb-value, .fb-list");
      holder.innerHTML = "";
      var input = valueInput(select.value, old ? old.value : null);
      if (input) holder.appendChild(input);
      if (select.value === "within_days") holder.appendChild(element("span", { "class": "fb-unit", text: "days" }));
    });
    return row;
  }

  function relatedRow(condition) {
    var people = entity() === "people", head = element("div", { "class": "fb-related-head" }), kind;
    head.appendChild(element("strong", { text: "Related to" }));
    if (people) {
      var type = element("select", { "class": "fb-rel-type", "aria-label": "related object type" });
      if (!config.types.length) type.appendChild(option("", "(no object types in the hub)"));
      config.types.forEach(function (t) {
        type.appendChild(option(t.singular, "an object of type " + t.singular,
                                t.singular === condition.object_type));
      });
      head.appendChild(type);
      kind = String((typeBySingular(type.value) || {}).id || "none");
      type.addEventListener("change", function () {
        var list = keysList(String((typeBySingular(type.value) || {}).id || "none"));
        row.querySelectorAll(".fb-nested .fb-attr").forEach(function (a) { a.setAttribute("list", list); });
      });
    } else {
      head.appendChild(element("span", { text: "a person" }));
      kind = "people";
    }
    head.appendChild(element("span", { text: "matching" }));
    var match = element("select", { "class": "fb-rel-match", "aria-label": "related match" });
    [["all", "all of"], ["any", "any of"]].forEach(function (pair) {
      match.appendChild(option(pair[0], pair[1], pair[0] === (condition.match || "all")));
    });
    head.appendChild(match);
    head.appendChild(element("span", { text: "these conditions (none: any)" }));
    head.appendChild(removeButton());
    var nested = element("div", { "class": "fb-cond-list fb-nested" });
    (condition.conditions || []).forEach(function (c) { nested.appendChild(plainRow(c, kind)); });
    var add = element("button", { type: "button", "class": "button fb-add-nested", text: "Add condition" });
    var row = element("div", { "class": "fb-cond fb-related" }, [head, nested, element("p", {}, [add])]);
    add.addEventListener("click", function () {
      var type = row.querySelector(".fb-rel-type");
      var k = type ? String((typeBySingular(type.value) || {}).id || "none") : "people";
      nested.appendChild(plainRow({}, k));
      changed();
      nested.lastChild.querySelector(".fb-attr").focus();
    });
    return row;
  }

  function removeButton() {
    return element("button", { type: "button", "class": "button fb-remove", text: "Remove",
                               "aria-label": "remove this condition" });
  }

  // --- Rows ⇄ JSON ---------------------------------------------------------------------
  function plainValue(row) {
    var operator = row.querySelector(".fb-op").value;
    var list = row.querySelector(".fb-list"), input = row.querySelector(".fb-value");
    var condition = { attribute: row.querySelector(".fb-attr").value.trim(), operator: operator };
    if (list) {
      condition.value = list.value.split("\n").map(function (v) { return v.trim(); })
        .filter(function (v) { return v !== ""; });
    } else if (input) {
      var text = input.value;
      if (config.numbers.indexOf(operator) >= 0) {
        // An empty or non-numeric number is sent as typed, for the server to name.
        if (text.trim() !== "") condition.value = isFinite(Number(text)) ? Number(text) : text;
      } else {
        condition.value = text;
      }
    }
    return condition;
  }

  function serialize() {
    return Array.prototype.map.call(rows.children, function (row) {
      if (!row.classList.contains("fb-related")) return plainValue(row);
      var condition = { operator: "related_to" }, type = row.querySelector(".fb-rel-type");
      if (type) condition.object_type = type.value;
      condition.match = row.querySelector(".fb-rel-match").value;
      condition.conditions = Array.prototype.map.call(
        row.querySelector(".fb-nested").children, plainValue);
      return condition;
    });
  }

  // Whether the rows can show these conditions (else the JSON stays the field).
  function drawable(conditions, nested) {
    var plainKeys = ["attribute", "operator", "value"], relatedKeys = ["operator", "object_type", "match", "conditions"];
    return Array.isArray(conditions) && conditions.every(function (c) {
      if (!c || typeof c !== "object" || Array.isArray(c)) return false;
      var keys = Object.keys(c);
      if (c.operator === "related_to") {
        return !nested && keys.every(function (k) { return relatedKeys.indexOf(k) >= 0; }) &&
          (c.match === undefined || c.match === "all" || c.match === "any") &&
          (entity() !== "people" || !c.object_type || typeBySingular(c.object_type)) &&
          drawable(c.conditions || [], true);
      }
      return keys.every(function (k) { return plainKeys.indexOf(k) >= 0; }) &&
        config.operators.some(function (pair) { return pair[0] === c.operator; }) &&
        (c.value === undefined || c.value === null || ["string", "number", "boolean"].indexOf(typeof c.value) >= 0 ||
         (c.operator === "in_list" && Array.isArray(c.value)));
    });
  }

  function draw(conditions) {
    rows.innerHTML = "";
    var kind = topKind();
    conditions.forEach(function (c) {
      rows.appendChild(c.operator === "related_to" ? relatedRow(c) : plainRow(c, kind));
    });
  }

  function parsed() {
    var text = textarea.value.trim();
    if (text === "") return [];
    try { return JSON.parse(text); } catch (e) { return undefined; }
  }

  // --- The live members box ------------------------------------------------------------
  function changed() {
    if (!byId("segment-builder").hidden) textarea.value = JSON.stringify(serialize(), null, 2);
    clearTimeout(timer);
    timer = setTimeout(count, 350);
  }

  function count() {
    var form = textarea.form, data = new FormData();
    ["csrfmiddlewaretoken", "entity", "object_type", "match", "conditions"].forEach(function (name) {
      if (form.elements[name]) data.set(name, form.elements[name].value);
    });
    var mine = ++asked;
    box.setAttribute("data-state", "loading");
    fetch(box.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin",
                                          headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (mine !== asked) return;  // a later count is on its way
        box.innerHTML = html;
        box.setAttribute("data-state", box.querySelector("#segment-problems") ? "problems" : "counted");
      })
      .catch(function (error) {
        if (mine !== asked) return;
        box.textContent = "Could not count the members: " + error.message;
        box.setAttribute("data-state", "failed");
      });
  }

  function showType() {
    var type = document.querySelector(".form-row.field-object_type");
    if (type) type.hidden = entity() === "people";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var builder = byId("segment-builder"), data = byId("segment-builder-config");
    textarea = byId("id_conditions");
    box = byId("segment-members");
    if (!builder || !data || !textarea || !box) return;  // read-only page
    config = JSON.parse(data.textContent);
    rows = byId("segment-rows");
    box.setAttribute("data-url", builder.getAttribute("data-url"));
    var conditions = parsed();
    if (drawable(conditions, false)) {
      draw(conditions);
      builder.hidden = false;
      byId("segment-json").hidden = true;
    } else {
      byId("segment-json-help").textContent = "These conditions cannot be shown as rows: " +
        "edit them as JSON (the members below follow as you type).";
    }
    showType();
    if (byId("segment-live-note")) byId("segment-live-note").hidden = false;

    byId("add-condition").addEventListener("click", function () {
      rows.appendChild(plainRow({}, topKind()));
      changed();
      rows.lastChild.querySelector(".fb-attr").focus();
    });
    byId("add-related").addEventListener("click", function () {
      rows.appendChild(relatedRow({}));
      changed();
    });
    builder.addEventListener("click", function (event) {
      var remove = event.target.closest(".fb-remove");
      if (!remove) return;
      remove.closest(".fb-cond").remove();
      changed();
    });
    builder.addEventListener("input", changed);
    builder.addEventListener("change", changed);
    textarea.addEventListener("input", changed);
    byId("id_match").addEventListener("change", changed);
    byId("id_object_type").addEventListener("change", function () {
      if (!builder.hidden) draw(serialize());  // the attribute names offered follow the type
      changed();
    });
    byId("id_entity").addEventListener("change", function () {
      showType();
      // "related to" means an object type for people, a person for objects: rows redrawn.
      if (!builder.hidden) draw(serialize().map(function (c) {
        if (c.operator === "related_to") delete c.object_type;
        return c;
      }));
      changed();
    });
    changed();
  });
})();
