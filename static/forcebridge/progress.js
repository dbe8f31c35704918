// Live progress on the sync page: poll the partial named by [data-poll] every second and put
// its HTML in place; HTTP 286 means the run ended (django-htmx's convention): show that last
// answer, stop, and enable the buttons a run disables. [data-confirm] forms ask first.
(function () {
  "use strict";
  var EVERY_MS = 1000;

  function poll(box) {
    var url = box.getAttribute("data-poll");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "progress" } })
        .then(function (response) {
          return response.text().then(function (html) {
            if (response.status === 200 || response.status === 286) box.innerHTML = html;
            if (response.status === 286) {
              box.removeAttribute("data-poll");
              document.querySelectorAll("[data-while-running]").forEach(function (button) {
                button.disabled = false;
                button.removeAttribute("title");
              });
            } else {
              setTimeout(tick, EVERY_MS);
            }
          });
        })
        .catch(function () { setTimeout(tick, EVERY_MS * 3); });
    }
    setTimeout(tick, EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
